package signer

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
)

// maxPEMBlocks bounds the blocks read from one PEM file, so that a huge file
// of tiny blocks cannot make us parse forever; it is well above any real
// chain-plus-key file.
const maxPEMBlocks = 2 * maxCertificates

// LoadPEM reads a signing identity from PEM data: certFile holds the
// certificate chain (leaf and CA certificates, in any order) and keyFile the
// private key (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY" or SEC 1 "EC
// PRIVATE KEY"). When keyFile is empty the key is looked for in certFile.
// Encrypted keys are refused with ErrEncryptedKey. The leaf is the
// certificate whose public key is the key's (the first one, if several are).
func LoadPEM(certFile, keyFile []byte) (*Identity, error) {
	if len(keyFile) == 0 {
		keyFile = certFile
	}
	return loadPEM(certFile, keyFile, "", "")
}

// loadPEM is LoadPEM with file names for error messages.
func loadPEM(certFile, keyFile []byte, certName, keyName string) (*Identity, error) {
	certs, _, err := readPEM(certFile, false)
	if err != nil {
		return nil, inFile(err, certName)
	}
	if len(certs) == 0 {
		return nil, &Error{Code: CodeInvalidInput, File: certName, Msg: "no PEM \"CERTIFICATE\" block", Err: ErrNoCertificate}
	}
	key, err := parseKeyFile(keyFile)
	if err != nil {
		return nil, inFile(err, keyName)
	}
	id, err := newIdentity(key, certs)
	return id, inFile(err, certName)
}

// readPEM returns the certificates of a PEM file and, when wantKey is set,
// its one private key (nil when there is none). Blocks of other types (EC
// PARAMETERS, public keys, …) are skipped.
func readPEM(data []byte, wantKey bool) (certs []*x509.Certificate, key any, err error) {
	if len(data) > maxFileSize {
		return nil, nil, fail(nil, "the PEM file is larger than %d bytes", maxFileSize)
	}
	for n := 0; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, key, nil
		}
		if n >= maxPEMBlocks {
			return nil, nil, fail(nil, "more than %d PEM blocks", maxPEMBlocks)
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fail(err, "PEM block %d is not a valid certificate", n+1)
			}
			if len(certs) == maxCertificates {
				return nil, nil, fail(nil, "more than %d certificates", maxCertificates)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if !wantKey {
				continue
			}
			if key != nil {
				return nil, nil, fail(nil, "more than one private key")
			}
			if key, err = parsePEMKey(b); err != nil {
				return nil, nil, err
			}
		}
	}
}

// parseKeyFile reads one private key from PEM or DER (PKCS#8, PKCS#1 or
// SEC 1) data.
func parseKeyFile(data []byte) (any, error) {
	if isPEM(data) {
		_, key, err := readPEM(data, true)
		if err != nil {
			return nil, err
		}
		if key == nil {
			return nil, fail(ErrNoKey, "no PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block")
		}
		return key, nil
	}
	if len(data) > maxFileSize {
		return nil, fail(nil, "the key file is larger than %d bytes", maxFileSize)
	}
	if k, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(data); err == nil {
		return k, nil
	}
	return nil, fail(ErrNoKey, "the key file is neither PEM nor a DER PKCS#8, PKCS#1 or SEC 1 private key")
}

// encryptedKeyHint says how to get a key signet can read.
const encryptedKeyHint = "decrypt it (openssl pkey -in key.pem -out key-plain.pem) or use a PKCS#12 file with a password"

// parsePEMKey parses one PEM private-key block.
func parsePEMKey(b *pem.Block) (any, error) {
	// PKCS#8 EncryptedPrivateKeyInfo, or OpenSSL's legacy encrypted PEM
	// (a "Proc-Type: 4,ENCRYPTED" header).
	if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fail(ErrEncryptedKey, "%s", encryptedKeyHint)
	}
	var (
		k   any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		err = errors.New("unknown block type")
	}
	if err != nil {
		return nil, fail(err, "the PEM %q block is not a valid private key", b.Type)
	}
	return k, nil
}
