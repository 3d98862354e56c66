package signer

import (
	"crypto/x509"
	"errors"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadPFX reads a PKCS#12 (.pfx/.p12) file holding one private key and its
// certificate, with or without CA certificates. Modern files (PBES2 with
// AES, as openssl 3 and recent Windows write them) and legacy ones
// (`openssl pkcs12 -export -legacy`: RC2/3DES) are both read. An empty
// password opens files exported with an empty password.
//
// The leaf is the certificate whose public key is the key's, wherever it sits
// in the file. A wrong password gives an *Error wrapping ErrWrongPassword.
func LoadPFX(data []byte, password string) (*Identity, error) {
	if len(data) > maxFileSize {
		return nil, fail(nil, "the PKCS#12 file is larger than %d bytes", maxFileSize)
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, pfxError(err, password)
	}
	if len(cas)+1 > maxCertificates {
		return nil, fail(nil, "the PKCS#12 file holds %d certificates; at most %d are read", len(cas)+1, maxCertificates)
	}
	return newIdentity(key, append([]*x509.Certificate{cert}, cas...))
}

// pfxError turns a go-pkcs12 error into an *Error that says what to do.
func pfxError(err error, password string) *Error {
	if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
		if password == "" {
			return fail(ErrWrongPassword, "the file is password-protected and no password was given")
		}
		return fail(ErrWrongPassword, "")
	}
	if strings.Contains(err.Error(), "asn1:") {
		// encoding/asn1's messages dump its internal state; say it simply.
		err = errors.New("malformed DER")
	}
	var ni pkcs12.NotImplementedError
	if errors.As(err, &ni) {
		return fail(err, "unsupported PKCS#12 file")
	}
	return fail(err, "not a readable PKCS#12 (.pfx) file")
}
