package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
)

// Key is a key pair on a token. It is a crypto.Signer that makes RSA
// PKCS#1 v1.5 signatures of SHA-256, SHA-384 and SHA-512 digests on the
// token; the private key never leaves it. Keys of other types are listed
// (so that errors can name them) but cannot sign.
type Key struct {
	// Label is the key's CKA_LABEL (a URI's "object"); ID its CKA_ID.
	Label string
	ID    []byte
	// Certificate is the token's certificate for this key (same public
	// key, preferring the same CKA_ID, then the same label), or nil when
	// the token holds none.
	Certificate *x509.Certificate

	pub   crypto.PublicKey
	inner crypto.Signer // the token's signer (crypto11)
	token string        // the token's label, for messages
}

// Public returns the key's public half, as read from the token.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// IsRSA reports whether the key is an RSA key, the only kind that signs.
func (k *Key) IsRSA() bool {
	_, ok := k.pub.(*rsa.PublicKey)
	return ok
}

// Sign signs digest (a SHA-256, SHA-384 or SHA-512 hash, as opts says)
// with RSA PKCS#1 v1.5 on the token, and checks the signature with the
// public key before returning it. PSS and other hashes are refused; rand
// is not used (the token needs no randomness for PKCS#1 v1.5).
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	pub, ok := k.pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("pkcs11: key %s on token %q is %s, not an RSA key", k.Describe(), k.token, keyKind(k.pub))
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("pkcs11: only RSA PKCS#1 v1.5 signatures are made")
	}
	h := opts.HashFunc()
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("pkcs11: digest algorithm %v is not supported (SHA-256, SHA-384 or SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("pkcs11: a %v digest has %d bytes, not %d", h, h.Size(), len(digest))
	}
	// Passing the bare hash (not opts) makes the token use CKM_RSA_PKCS
	// over the DigestInfo, whatever else opts carries.
	sig, err := k.inner.Sign(nil, digest, h)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: signing with key %s on token %q failed: %w", k.Describe(), k.token, err)
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return nil, fmt.Errorf("pkcs11: key %s on token %q returned a signature that does not verify with its public key", k.Describe(), k.token)
	}
	return sig, nil
}

// Describe names the key for messages: its label and id.
func (k *Key) Describe() string {
	switch {
	case k.Label != "" && len(k.ID) > 0:
		return fmt.Sprintf("%q (id %X)", k.Label, k.ID)
	case k.Label != "":
		return fmt.Sprintf("%q", k.Label)
	}
	return fmt.Sprintf("with id %X", k.ID)
}

// keyKind names a public key's type for messages.
func keyKind(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PublicKey:
		return "an ECDSA key"
	}
	return fmt.Sprintf("a %T key", pub)
}

// certificateFor picks the certificate for a key among certs: the public
// key must be equal; the same CKA_ID wins, then the same label, then the
// first found.
func certificateFor(pub crypto.PublicKey, id []byte, label string, certs []tokenCertificate) *x509.Certificate {
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil
	}
	var best *x509.Certificate
	bestScore := -1
	for _, c := range certs {
		if !eq.Equal(c.cert.PublicKey) {
			continue
		}
		score := 0
		if len(id) > 0 && string(c.id) == string(id) {
			score = 2
		} else if label != "" && c.label == label {
			score = 1
		}
		if score > bestScore {
			best, bestScore = c.cert, score
		}
	}
	return best
}

// tokenCertificate is a certificate object read from a token.
type tokenCertificate struct {
	id    []byte
	label string
	cert  *x509.Certificate
}
