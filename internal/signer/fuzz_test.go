package signer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/signer"
)

// fuzzIdentity returns an identity made fast: RSA key generation under
// the fuzzer's coverage instrumentation takes minutes, so the seeds use
// ECDSA keys.
func fuzzIdentity(f *testing.F) (*devpki.CA, *signer.Identity) {
	k1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	root, err := devpki.NewRoot("Fuzz Root", devpki.CAOptions{Key: k1})
	if err != nil {
		f.Fatal(err)
	}
	id, err := root.Issue(devpki.LeafOptions{ECDSA: true})
	if err != nil {
		f.Fatal(err)
	}
	return root, id
}

// FuzzLoadPFX: LoadPFX never panics, and what it returns is consistent.
func FuzzLoadPFX(f *testing.F) {
	_, id := fuzzIdentity(f)
	for _, pw := range []string{"", "pw"} {
		pfx, err := devpki.EncodePFX(id, pw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pfx, pw)
	}
	f.Add(fixtures.Read(f, "roots/roots_used_by_fixtures.pem"), "")
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		id, err := signer.LoadPFX(data, password)
		checkIdentity(t, id, err)
	})
}

// FuzzLoadPEM: LoadPEM never panics, and what it returns is consistent.
func FuzzLoadPEM(f *testing.F) {
	root, id := fuzzIdentity(f)
	key := pkcs8(f, id.Signer)
	f.Add(pemCerts(id.Chain...), key)
	f.Add(append(pemCerts(root.Cert, id.Certificate), key...), []byte(nil))
	f.Add(fixtures.Read(f, "roots/roots_used_by_fixtures.pem"), key)
	f.Fuzz(func(t *testing.T, cert, key []byte) {
		id, err := signer.LoadPEM(cert, key)
		checkIdentity(t, id, err)
	})
}

func checkIdentity(t *testing.T, id *signer.Identity, err error) {
	if err != nil {
		if id != nil {
			t.Fatal("identity and error both returned")
		}
		return
	}
	if id.Signer == nil || id.Certificate == nil || len(id.Chain) == 0 || id.Chain[0] != id.Certificate {
		t.Fatalf("inconsistent identity %+v", id)
	}
	if err := signer.CheckKeyMatchesCertificate(id.Signer, id.Certificate); err != nil {
		t.Fatalf("loaded identity fails the key check: %v", err)
	}
}
