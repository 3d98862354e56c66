package nupkg

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"io"
	"path/filepath"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// TestGoldenSignedContentHash checks, for every signed fixture whose
// signature parses, that the hash of the reconstructed unsigned package
// equals the hash inside the signature content, and that it does not for the
// packages the manifest marks as broken (content_hash_ok False: one rezipped
// after signing, one with a zeroed block).
func TestGoldenSignedContentHash(t *testing.T) {
	m := manifest(t)
	files := append(fixtures.Glob(t, "real/*.nupkg"), fixtures.Glob(t, "invalid/*.nupkg")...)
	checked, mismatched := 0, 0
	for _, path := range files {
		rel := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		row, ok := m[rel]
		if !ok {
			t.Fatalf("%s is not in MANIFEST.tsv", rel)
		}
		if row["content_hash_ok"] == "" {
			continue // not a signed package (the Zip64 cases): see TestZip64
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			b := fixtures.Read(t, rel)
			p, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				if row["content_hash_ok"] != "ERR" {
					t.Fatalf("Open: %v", err)
				}
				return // the manifest says the zip is unreadable
			}
			if !p.IsSigned() {
				t.Fatalf("not signed")
			}
			sig, err := p.Signature()
			if err != nil {
				// The rezipped package deflated its signature entry: read
				// the CMS through the zip reader to compare hashes anyway.
				wantCode(t, err, CodeInvalidSignatureEntry, "compressed")
				rc, oerr := p.OpenEntry(SignatureName)
				if oerr != nil {
					t.Fatal(oerr)
				}
				sig, oerr = io.ReadAll(rc)
				if oerr != nil {
					t.Fatal(oerr)
				}
			}
			h, want, err := signedHash(sig)
			if err != nil {
				t.Fatalf("signature content: %v", err)
			}
			got, err := p.HashUnsigned(h)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			switch row["content_hash_ok"] {
			case "True":
				if !bytes.Equal(got, want) {
					t.Fatalf("hash %x, signature says %x", got, want)
				}
			case "False":
				mismatched++
				if bytes.Equal(got, want) {
					t.Fatalf("hash matches, but the package was altered after signing")
				}
			default:
				t.Fatalf("manifest content_hash_ok %q", row["content_hash_ok"])
			}
		})
	}
	if checked < 40 || mismatched != 2 {
		t.Fatalf("checked %d packages, %d mismatching; want ≥ 40 and 2", checked, mismatched)
	}
}

// TestGoldenWriteUnsigned checks the reconstruction itself on the real
// packages: the unsigned bytes form a valid zip with every entry but the
// signature, and hashing them equals HashUnsigned.
func TestGoldenWriteUnsigned(t *testing.T) {
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, b := openFixture(t, "real/"+filepath.Base(path))
			var u bytes.Buffer
			if err := p.WriteUnsigned(&u); err != nil {
				t.Fatal(err)
			}
			sig := entry(t, p, SignatureName)
			if want := int64(len(b)) - (p.entries[p.names[SignatureName]].extentEnd - sig.HeaderOffset) - int64(sig.CentralSize); int64(u.Len()) != want {
				t.Fatalf("unsigned package is %d bytes, want %d", u.Len(), want)
			}
			up := openBytes(t, u.Bytes())
			if up.IsSigned() || len(up.Entries()) != len(p.Entries())-1 {
				t.Fatalf("unsigned package: signed %v, %d entries", up.IsSigned(), len(up.Entries()))
			}
			sum := sha256.Sum256(u.Bytes())
			h, err := p.HashUnsigned(crypto.SHA256)
			if err != nil || !bytes.Equal(h, sum[:]) {
				t.Fatalf("HashUnsigned %x, %v; hash of WriteUnsigned %x", h, err, sum)
			}
			assertSameEntries(t, p, up)
		})
	}
}

// assertSameEntries checks that every entry of want but the signature reads
// back identically from got.
func assertSameEntries(t testing.TB, want, got *Package) {
	t.Helper()
	for _, e := range want.Entries() {
		if e.Name == SignatureName {
			continue
		}
		a := readEntry(t, want, e.Name)
		b := readEntry(t, got, e.Name)
		if !bytes.Equal(a, b) {
			t.Fatalf("entry %q differs", e.Name)
		}
	}
}

func readEntry(t testing.TB, p *Package, name string) []byte {
	t.Helper()
	rc, err := p.OpenEntry(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", name, err)
	}
	return b
}

func TestGoldenFixtureCoverage(t *testing.T) {
	// The golden test must not silently skip: every real package is signed
	// and its signature entry is valid.
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		p, _ := openFixture(t, "real/"+filepath.Base(path))
		if _, err := p.Signature(); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		if p.IsZip64() {
			t.Errorf("%s: reported as Zip64", filepath.Base(path))
		}
	}
}
