package pkcs11

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/signet-nuget/signet/internal/signer"
)

// maxCertFileSize bounds a certificate file given with a token key: a PEM
// chain of a few certificates is under 20 KiB.
const maxCertFileSize = 1 << 20

// maxCertsInFile bounds the certificates taken from that file: real chains
// have 2–5, and chain ordering is quadratic in their number.
const maxCertsInFile = 64

// LoadIdentity opens the key pair that ref (a "pkcs11:" URI) names and
// returns it as a signing identity. The certificate comes from certPath
// when it is not empty (a PEM chain or one DER certificate; the leaf is the
// one with the key's public key), otherwise from the token. The chain is
// the leaf, then its issuers found in certPath and on the token, then the
// other certificates of certPath.
//
// The key is checked against the certificate with a test signature made
// on the token (signer.CheckKeyMatchesCertificate) before LoadIdentity
// returns, so a wrong key is found before any package is touched. The
// returned Closer releases the token: call it after the last signature.
func LoadIdentity(ref, certPath string, getenv func(string) string) (*signer.Identity, io.Closer, error) {
	u, err := ParseURI(ref)
	if err != nil {
		return nil, nil, err
	}
	var fileCerts []*x509.Certificate
	if certPath != "" {
		if fileCerts, err = readCertFile(certPath); err != nil {
			return nil, nil, err
		}
	}
	tok, err := Open(u, getenv)
	if err != nil {
		return nil, nil, err
	}
	key, err := tok.Key()
	if err != nil {
		tok.Close()
		return nil, nil, err
	}
	leaf := key.Certificate
	if certPath != "" {
		leaf = fileCerts[0]
		for _, c := range fileCerts {
			if publicKeysEqual(key.pub, c.PublicKey) {
				leaf = c
				break
			}
		}
	}
	if leaf == nil {
		tok.Close()
		return nil, nil, fmt.Errorf("pkcs11: token %q holds no certificate for key %s: store it on the token or give it with --certificate-path", tok.Label(), key.Describe())
	}
	id, err := newIdentity(key, leaf, fileCerts, tok.Certificates())
	if err != nil {
		tok.Close()
		return nil, nil, err
	}
	return id, tok, nil
}

// FindInStoreAndToken is signer.FindInStore over dirs with the token that
// ref names searched too: each RSA key pair on it (those the URI's object
// and id select) whose certificate on the token sel selects is a
// candidate. Exactly one candidate in all is the answer; none or several
// are NU3001 errors, several with every candidate listed. The returned
// Closer releases the token (a no-op when the answer came from a store).
func FindInStoreAndToken(dirs []string, sel signer.Selector, ref string, getenv func(string) string) (*signer.Identity, io.Closer, error) {
	u, err := ParseURI(ref)
	if err != nil {
		return nil, nil, err
	}
	tok, err := Open(u, getenv)
	if err != nil {
		return nil, nil, err
	}
	keys, err := tok.Keys()
	if err != nil {
		tok.Close()
		return nil, nil, err
	}
	var onToken []*Key
	for _, k := range keys {
		if k.IsRSA() && k.Certificate != nil && sel.Matches(k.Certificate) {
			onToken = append(onToken, k)
		}
	}
	inStore, storeErr := signer.FindInStore(dirs, sel)
	if storeErr != nil && !errors.Is(storeErr, signer.ErrNoCertificate) {
		tok.Close()
		return nil, nil, storeErr
	}
	switch {
	case inStore == nil && len(onToken) == 1:
		id, err := newIdentity(onToken[0], onToken[0].Certificate, nil, tok.Certificates())
		if err != nil {
			tok.Close()
			return nil, nil, err
		}
		return id, tok, nil
	case inStore != nil && len(onToken) == 0:
		tok.Close()
		return inStore, nopCloser{}, nil
	case inStore == nil && len(onToken) == 0:
		tok.Close()
		return nil, nil, &signer.Error{Code: signer.CodeInvalidInput, Err: signer.ErrNoCertificate,
			Msg: fmt.Sprintf("no certificate with a private key matching %s was found in %s or on PKCS#11 token %q", describeSelector(sel), strings.Join(dirs, ", "), tok.Label())}
	}
	var names []string
	if inStore != nil {
		names = append(names, describeCert(inStore.Certificate, "certificate store"))
	}
	for _, k := range onToken {
		names = append(names, describeCert(k.Certificate, fmt.Sprintf("token %q, key %s", tok.Label(), k.Describe())))
	}
	sort.Strings(names)
	tok.Close()
	return nil, nil, &signer.Error{Code: signer.CodeInvalidInput,
		Msg: fmt.Sprintf("%d certificates match %s: %s; name one by --certificate-fingerprint", len(names), describeSelector(sel), strings.Join(names, "; "))}
}

// newIdentity checks key against leaf and builds the identity's chain from
// leaf, its issuers among fileCerts and tokenCerts, then the rest of
// fileCerts.
func newIdentity(key *Key, leaf *x509.Certificate, fileCerts, tokenCerts []*x509.Certificate) (*signer.Identity, error) {
	if !key.IsRSA() {
		return nil, fmt.Errorf("pkcs11: key %s is %s, not an RSA key", key.Describe(), keyKind(key.pub))
	}
	if err := signer.CheckKeyMatchesCertificate(key, leaf); err != nil {
		return nil, err
	}
	pool := append(append([]*x509.Certificate{}, fileCerts...), tokenCerts...)
	chain := signer.IssuerChain(leaf, pool)
	used := map[string]bool{}
	for _, c := range chain {
		used[string(c.Raw)] = true
	}
	for _, c := range fileCerts {
		if !used[string(c.Raw)] {
			used[string(c.Raw)] = true
			chain = append(chain, c)
		}
	}
	return &signer.Identity{Signer: key, Certificate: leaf, Chain: chain}, nil
}

// readCertFile reads certificates from a PEM file (every CERTIFICATE
// block, in order) or a file holding one DER certificate.
func readCertFile(name string) ([]*x509.Certificate, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: cannot open the certificate file %q: %w", name, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCertFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("pkcs11: cannot read the certificate file %q: %w", name, unwrapPath(err))
	}
	if len(data) > maxCertFileSize {
		return nil, fmt.Errorf("pkcs11: the certificate file %q is larger than %d bytes", name, maxCertFileSize)
	}
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: the certificate file %q is neither PEM nor a DER certificate: %w", name, err)
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if len(certs) == maxCertsInFile {
			return nil, fmt.Errorf("pkcs11: the certificate file %q holds more than %d certificates", name, maxCertsInFile)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: the certificate file %q: certificate %d: %w", name, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("pkcs11: the certificate file %q holds no certificate", name)
	}
	return certs, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func describeSelector(sel signer.Selector) string {
	if sel.Fingerprint != "" {
		return "fingerprint " + sel.Fingerprint
	}
	return fmt.Sprintf("subject name %q", sel.SubjectName)
}

func describeCert(c *x509.Certificate, where string) string {
	s := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%q (SHA-256 %X, %s)", c.Subject.String(), s[:], where)
}

// nopCloser is the Closer of an identity that holds no token.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }
