package nupkg

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// openBytes opens an in-memory package, failing the test on error.
func openBytes(t testing.TB, b []byte) *Package {
	t.Helper()
	p, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return p
}

// openFixture opens a fixture file given relative to the corpus.
func openFixture(t testing.TB, name string) (*Package, []byte) {
	t.Helper()
	b := fixtures.Read(t, name)
	return openBytes(t, b), b
}

// manifest returns MANIFEST.tsv as a map from file to column to value.
func manifest(t testing.TB) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures.Dir(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(row) {
				m[h] = row[i]
			}
		}
		out[row[0]] = m
	}
	return out
}

// signedHash extracts the package hash from a signature with a minimal
// cryptobyte walk: ContentInfo → [0] → SignedData → encapContentInfo → [0]
// OCTET STRING, then the content "Version:1\n\n<oid>-Hash:<base64>\n\n".
func signedHash(sig []byte) (crypto.Hash, []byte, error) {
	in := cryptobyte.String(sig)
	var ci, content, sd, encap, eContent cryptobyte.String
	var skip cryptobyte.String
	var version int
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) ||
		!ci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.ReadASN1Integer(&version) ||
		!sd.ReadASN1(&skip, cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) ||
		!encap.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!encap.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!content.ReadASN1(&eContent, cbasn1.OCTET_STRING) {
		return 0, nil, errors.New("not a CMS SignedData with encapsulated content")
	}
	text := string(eContent)
	const prefix = "Version:1\n\n"
	if !strings.HasPrefix(text, prefix) || !strings.HasSuffix(text, "\n\n") {
		return 0, nil, errors.New("unexpected signature content " + text)
	}
	oid, b64, ok := strings.Cut(strings.TrimSuffix(text[len(prefix):], "\n\n"), "-Hash:")
	if !ok {
		return 0, nil, errors.New("no hash line in " + text)
	}
	h, ok := map[string]crypto.Hash{
		"2.16.840.1.101.3.4.2.1": crypto.SHA256,
		"2.16.840.1.101.3.4.2.2": crypto.SHA384,
		"2.16.840.1.101.3.4.2.3": crypto.SHA512,
	}[oid]
	if !ok {
		return 0, nil, errors.New("unknown hash oid " + oid)
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	return h, sum, err
}

// wantCode fails the test unless err is an *Error with the code whose
// message contains want.
func wantCode(t testing.TB, err error, code, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want an *Error with code %s", err, code)
	}
	if e.Code != code || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want code %s and %q", err, code, want)
	}
	if !strings.HasPrefix(err.Error(), "nupkg: "+code+": ") {
		t.Fatalf("error %q does not start with the package and the code", err)
	}
}

// entry returns the named entry of p.
func entry(t testing.TB, p *Package, name string) Entry {
	t.Helper()
	for _, e := range p.Entries() {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %q", name)
	return Entry{}
}

func put16(b []byte, off int64, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int64, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// rearrange rebuilds the zip in b with its local entries in localOrder and
// its central directory headers in cdOrder (both lists of central directory
// indexes), fixing the local header offsets and the end record. Every byte
// of each entry's extent and header is kept.
func rearrange(t testing.TB, b []byte, localOrder, cdOrder []int) []byte {
	t.Helper()
	p := openBytes(t, b)
	es := p.Entries()
	var out bytes.Buffer
	newOff := make([]int64, len(es))
	for _, i := range localOrder {
		newOff[i] = int64(out.Len())
		out.Write(b[es[i].HeaderOffset:p.entries[i].extentEnd])
	}
	cdStart := out.Len()
	for _, i := range cdOrder {
		h := bytes.Clone(b[es[i].CentralOffset : es[i].CentralOffset+int64(es[i].CentralSize)])
		put32(h, centralOffsetField, uint32(newOff[i]))
		out.Write(h)
	}
	end := bytes.Clone(b[p.end.offset:])
	put32(end, 16, uint32(cdStart))
	out.Write(end)
	return out.Bytes()
}

// moveSignature returns b with its signature entry moved to position pos
// (0 first, -1 last) among the local entries and to cdPos among the central
// directory headers, the other entries keeping their order.
func moveSignature(t testing.TB, b []byte, pos, cdPos int) []byte {
	t.Helper()
	p := openBytes(t, b)
	sig, err := p.signatureIndex()
	if err != nil {
		t.Fatal(err)
	}
	var local, cd []int
	for _, i := range p.byOffset {
		if i != sig {
			local = append(local, i)
		}
	}
	for i := range p.entries {
		if i != sig {
			cd = append(cd, i)
		}
	}
	insert := func(s []int, at int) []int {
		if at < 0 || at > len(s) {
			at = len(s)
		}
		return append(s[:at], append([]int{sig}, s[at:]...)...)
	}
	return rearrange(t, b, insert(local, pos), insert(cd, cdPos))
}
