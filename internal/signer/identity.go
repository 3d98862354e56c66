// Package signer loads signing identities: a private key usable as a
// crypto.Signer, its certificate, and the other certificates found beside it
// (the chain NuGet embeds in a signature).
//
// Sources are PKCS#12 files (.pfx/.p12, as `openssl pkcs12 -export` and
// Windows write them, modern AES/PBES2 or legacy RC2/3DES) and PEM files
// (a certificate chain in any order plus a PKCS#1, PKCS#8 or SEC 1 key).
// Every loader checks that the key belongs to the certificate, both by
// public-key equality and by a test signature (spec 3.6: the signer must be
// able to sign with the certificate's key). Every failure is an *Error with
// NuGet's code NU3001.
//
// The files read here are the user's own, but they are still parsed
// defensively: sizes are bounded and nothing panics on malformed input.
package signer

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxFileSize bounds a certificate or key file: a PFX or PEM chain with a
// 4096-bit key and a few CA certificates is under 20 KiB; a megabyte leaves
// room for bundles while refusing to read a wrong, huge file into memory.
const maxFileSize = 1 << 20

// maxCertificates bounds the certificates taken from one file: real chains
// have 2–5, and ordering them is quadratic in their number.
const maxCertificates = 64

// Identity is a signing key with its certificate and chain.
type Identity struct {
	// Signer signs with the certificate's private key.
	Signer crypto.Signer
	// Certificate is the signing (leaf) certificate: the one whose public
	// key is the Signer's.
	Certificate *x509.Certificate
	// Chain is the leaf first, then its issuers in order as far as the
	// file(s) hold them, then any other certificates found, in file order.
	Chain []*x509.Certificate
}

// Load reads a signing identity from files, telling formats apart by content,
// not by file name:
//   - certPath is PEM: certificates (and maybe the key) in PEM; the key comes
//     from keyPath, or from certPath itself when keyPath is empty;
//   - certPath is DER: a PKCS#12 file opened with password (keyPath must be
//     empty), or a single DER certificate whose key is in keyPath.
//
// The password is used for PKCS#12 files only.
func Load(certPath, keyPath, password string) (*Identity, error) {
	certData, err := readFile(certPath)
	if err != nil {
		return nil, err
	}
	if isPEM(certData) {
		keyData := certData
		keyName := certPath
		if keyPath != "" {
			if keyData, err = readFile(keyPath); err != nil {
				return nil, err
			}
			keyName = keyPath
		}
		return loadPEM(certData, keyData, certPath, keyName)
	}
	if keyPath == "" {
		id, err := LoadPFX(certData, password)
		return id, inFile(err, certPath)
	}
	cert, err := x509.ParseCertificate(certData)
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, File: certPath, Msg: "a key file was given, but this is neither PEM nor a DER certificate (a PKCS#12 file holds its own key: give no key file with it)"}
	}
	keyData, err := readFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyFile(keyData)
	if err != nil {
		return nil, inFile(err, keyPath)
	}
	id, err := newIdentity(key, []*x509.Certificate{cert})
	return id, inFile(err, certPath)
}

// readFile reads at most maxFileSize bytes of name.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, File: name, Msg: "cannot open the file", Err: unwrapPath(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, File: name, Msg: "cannot read the file", Err: unwrapPath(err)}
	}
	if len(data) > maxFileSize {
		return nil, &Error{Code: CodeInvalidInput, File: name, Msg: fmt.Sprintf("the file is larger than %d bytes: not a certificate or key file", maxFileSize)}
	}
	return data, nil
}

// unwrapPath drops the *PathError wrapper, whose text repeats the file name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// isPEM reports whether data looks like PEM text rather than DER.
func isPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

// newIdentity picks the leaf among certs (the first whose public key is the
// key's), checks the key against it and orders the chain.
func newIdentity(key any, certs []*x509.Certificate) (*Identity, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fail(ErrUnsupportedKey, "%T", key)
	}
	if len(certs) == 0 {
		return nil, fail(ErrNoCertificate, "")
	}
	leaf := -1
	for i, c := range certs {
		if publicKeysEqual(s.Public(), c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		if len(certs) == 1 {
			return nil, fail(ErrKeyMismatch, "certificate %q", certs[0].Subject.String())
		}
		return nil, fail(ErrKeyMismatch, "none of the %d certificates has the key's public key", len(certs))
	}
	if err := CheckKeyMatchesCertificate(s, certs[leaf]); err != nil {
		return nil, err
	}
	return &Identity{Signer: s, Certificate: certs[leaf], Chain: orderChain(certs[leaf], certs)}, nil
}

// orderChain returns leaf, then its issuers found in certs (IssuerChain),
// then the remaining certificates in their original order, without
// duplicates.
func orderChain(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	out := IssuerChain(leaf, certs)
	used := map[string]bool{}
	for _, c := range out {
		used[string(c.Raw)] = true
	}
	for _, c := range certs {
		if !used[string(c.Raw)] {
			used[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}

// IssuerChain returns leaf and then its issuers found in pool, each found by
// issuer name equal to subject name, stopping at a self-issued certificate
// or when no issuer is in the pool; no certificate appears twice.
func IssuerChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	used := map[string]bool{string(leaf.Raw): true}
	out := []*x509.Certificate{leaf}
	for cur := leaf; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		var next *x509.Certificate
		for _, c := range pool {
			if !used[string(c.Raw)] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[string(next.Raw)] = true
		out = append(out, next)
		cur = next
	}
	return out
}

// publicKeysEqual compares two public keys of any standard type.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

// testMessage is what CheckKeyMatchesCertificate signs.
var testMessage = []byte("signet: key and certificate match check")

// CheckKeyMatchesCertificate checks that s is the private key of c: the
// public keys must be equal, and a test signature made with s must verify
// with c's public key (this catches a signer, such as a hardware token,
// whose Public() does not describe the key it signs with).
func CheckKeyMatchesCertificate(s crypto.Signer, c *x509.Certificate) error {
	if !publicKeysEqual(s.Public(), c.PublicKey) {
		return fail(ErrKeyMismatch, "certificate %q", c.Subject.String())
	}
	alg, opts, digest := testSignatureParams(c.PublicKeyAlgorithm)
	if alg == x509.UnknownSignatureAlgorithm {
		return fail(ErrUnsupportedKey, "certificate %q has a %v key", c.Subject.String(), c.PublicKeyAlgorithm)
	}
	sig, err := s.Sign(rand.Reader, digest, opts)
	if err != nil {
		return fail(err, "the key cannot make a test signature")
	}
	if err := c.CheckSignature(alg, testMessage, sig); err != nil {
		return fail(ErrKeyMismatch, "a test signature made with the key does not verify with certificate %q (%v)", c.Subject.String(), err)
	}
	return nil
}

// testSignatureParams returns the algorithm, signer options and the bytes
// to pass to Sign for a test signature with a key of type pk.
func testSignatureParams(pk x509.PublicKeyAlgorithm) (x509.SignatureAlgorithm, crypto.SignerOpts, []byte) {
	sum := sha256.Sum256(testMessage)
	switch pk {
	case x509.RSA:
		return x509.SHA256WithRSA, crypto.SHA256, sum[:]
	case x509.ECDSA:
		return x509.ECDSAWithSHA256, crypto.SHA256, sum[:]
	case x509.Ed25519:
		return x509.PureEd25519, crypto.Hash(0), testMessage
	}
	return x509.UnknownSignatureAlgorithm, nil, nil
}
