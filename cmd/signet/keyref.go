package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/signer/pkcs11"
)

// envPKCS11URI names a PKCS#11 token (a pkcs11: URI with module-path and
// pin-source) that --certificate-fingerprint and --certificate-subject-name
// search besides the certificate stores.
const envPKCS11URI = "SIGNET_PKCS11_URI"

// noToken is the Closer of an identity that holds no token.
type noToken struct{}

func (noToken) Close() error { return nil }

// loadKeyIdentity loads the signing identity of sign, repository-sign and
// tsa from --key, --certificate-path, --key-path and the password:
//   - key "exec:<program> [args]": an external signer; the certificate
//     from certPath (required);
//   - key "pkcs11:<URI>": a key on a PKCS#11 token; the certificate from
//     certPath, or from the token when certPath is empty;
//   - no key: the key files.
//
// Every signer is checked against its certificate before this returns.
// Close the returned Closer after the last signature.
func loadKeyIdentity(e *env, key, certPath, keyPath, password string, keyTimeout time.Duration) (*signer.Identity, io.Closer, error) {
	if key != "" && keyPath != "" {
		return nil, nil, errors.New("--key and --key-path cannot be combined")
	}
	switch {
	case strings.HasPrefix(key, pkcs11.Prefix):
		return pkcs11.LoadIdentity(key, certPath, e.getenv)
	case strings.HasPrefix(key, signer.ExecPrefix):
		if certPath == "" {
			return nil, nil, errors.New("--key exec:… needs the signing certificate: give it with --certificate-path")
		}
		id, err := signer.LoadExec(key, certPath, keyTimeout)
		return id, noToken{}, err
	case key != "":
		return nil, nil, fmt.Errorf("key reference %q is not supported: use exec:<program> or a pkcs11: URI", key)
	}
	id, err := signer.Load(certPath, keyPath, password)
	return id, noToken{}, err
}

// findStoreIdentity finds the certificate sel selects in the certificate
// store, and on the token SIGNET_PKCS11_URI names when it is set.
func findStoreIdentity(e *env, storeName, storeLocation string, sel signer.Selector) (*signer.Identity, io.Closer, error) {
	dirs, err := signer.StoreDirs(storeName, storeLocation)
	if err != nil {
		return nil, nil, err
	}
	if uri := e.getenv(envPKCS11URI); uri != "" {
		return pkcs11.FindInStoreAndToken(dirs, sel, uri, e.getenv)
	}
	id, err := signer.FindInStore(dirs, sel)
	return id, noToken{}, err
}

// pkcs11Status says whether this build can use PKCS#11 tokens.
func pkcs11Status() string {
	if pkcs11.Supported {
		return "built in"
	}
	return "not built in (built with CGO_ENABLED=0)"
}
