package tsp

import (
	"archive/zip"
	"bytes"
	"encoding/asn1"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// fixtureToken is one timestamp token found in a fixture package, read by a
// walker written here independently of internal/cms.
type fixtureToken struct {
	file     string // path relative to the fixtures dir
	role     string // "primary" or "countersignature"
	sigValue []byte // the timestamped SignerInfo's signature value
	token    []byte // DER ContentInfo of the token
	manifest map[string]string
}

var (
	oidTimeStampToken   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidCountersignature = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
)

// fixtureTokens returns the tokens of every package matching pattern.
func fixtureTokens(t testing.TB, pattern string) []fixtureToken {
	t.Helper()
	manifest := readManifest(t)
	var out []fixtureToken
	for _, path := range fixtures.Glob(t, pattern) {
		rel, _ := filepath.Rel(fixtures.Dir(t), path)
		p7s := signatureEntry(t, path)
		if p7s == nil {
			continue
		}
		sis, err := signerInfos(p7s)
		if err != nil && strings.HasPrefix(rel, "invalid/") {
			continue // a fake or mangled signature entry
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, si := range sis {
			for _, tok := range si.attrs(oidTimeStampToken) {
				out = append(out, fixtureToken{rel, "primary", si.sig, tok, manifest[rel]})
			}
			for _, cs := range si.attrs(oidCountersignature) {
				csi, err := readWalkedSignerInfo(cryptobyte.String(cs))
				if err != nil {
					t.Fatalf("%s: countersignature: %v", rel, err)
				}
				for _, tok := range csi.attrs(oidTimeStampToken) {
					out = append(out, fixtureToken{rel, "countersignature", csi.sig, tok, manifest[rel]})
				}
			}
		}
	}
	return out
}

// readManifest maps fixture paths to their MANIFEST.tsv columns.
func readManifest(t testing.TB) map[string]map[string]string {
	lines := strings.Split(string(fixtures.Read(t, "MANIFEST.tsv")), "\n")
	head := strings.Split(lines[0], "\t")
	m := map[string]map[string]string{}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			if i < len(head) {
				row[head[i]] = v
			}
		}
		m[row["file"]] = row
	}
	return m
}

// signatureEntry returns the .signature.p7s of a package, or nil when it
// cannot be read (the invalid/ corpus has packages that are not zips).
func signatureEntry(t testing.TB, path string) []byte {
	b := fixtures.Read(t, mustRel(t, path))
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	for _, f := range zr.File {
		if f.Name == ".signature.p7s" {
			rc, err := f.Open()
			if err != nil {
				return nil
			}
			defer rc.Close()
			data, err := io.ReadAll(rc)
			if err != nil {
				return nil
			}
			return data
		}
	}
	return nil
}

func mustRel(t testing.TB, path string) string {
	rel, err := filepath.Rel(fixtures.Dir(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

type walkedSignerInfo struct {
	sig      []byte
	unsigned map[string][][]byte
}

func (si walkedSignerInfo) attrs(oid asn1.ObjectIdentifier) [][]byte {
	return si.unsigned[oid.String()]
}

// signerInfos walks ContentInfo → SignedData → signerInfos.
func signerInfos(der []byte) ([]walkedSignerInfo, error) {
	s := cryptobyte.String(der)
	var ci, content, sd, set cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.SkipASN1(cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) || !sd.SkipASN1(cbasn1.SEQUENCE) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific().Constructed()) ||
		!sd.ReadASN1(&set, cbasn1.SET) {
		return nil, errMalformed
	}
	var out []walkedSignerInfo
	for !set.Empty() {
		si, err := readWalkedSignerInfo(set)
		if err != nil {
			return nil, err
		}
		var skip cryptobyte.String
		set.ReadASN1(&skip, cbasn1.SEQUENCE)
		out = append(out, si)
	}
	return out, nil
}

var errMalformed = asn1.StructuralError{Msg: "malformed CMS in fixture walker"}

// readWalkedSignerInfo reads the first SignerInfo of s (s is not advanced).
func readWalkedSignerInfo(s cryptobyte.String) (walkedSignerInfo, error) {
	var si, sig, attrs, sid cryptobyte.String
	var tag cbasn1.Tag
	var hasAttrs bool
	if !s.ReadASN1(&si, cbasn1.SEQUENCE) || !si.SkipASN1(cbasn1.INTEGER) ||
		!si.ReadAnyASN1Element(&sid, &tag) || !si.SkipASN1(cbasn1.SEQUENCE) ||
		!si.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!si.SkipASN1(cbasn1.SEQUENCE) || !si.ReadASN1(&sig, cbasn1.OCTET_STRING) ||
		!si.ReadOptionalASN1(&attrs, &hasAttrs, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return walkedSignerInfo{}, errMalformed
	}
	out := walkedSignerInfo{sig: sig, unsigned: map[string][][]byte{}}
	for !attrs.Empty() {
		var attr, vals cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !attr.ReadASN1(&vals, cbasn1.SET) {
			return walkedSignerInfo{}, errMalformed
		}
		for !vals.Empty() {
			var v cryptobyte.String
			var vt cbasn1.Tag
			if !vals.ReadAnyASN1Element(&v, &vt) {
				return walkedSignerInfo{}, errMalformed
			}
			out.unsigned[oid.String()] = append(out.unsigned[oid.String()], v)
		}
	}
	return out, nil
}

// tokenTSTInfo pulls the eContent of a token without internal/cms.
func tokenTSTInfo(der []byte) ([]byte, error) {
	s := cryptobyte.String(der)
	var ci, content, sd, eci, ec, oct cryptobyte.String
	var ctype, etype asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.SkipASN1(cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) || !sd.ReadASN1(&eci, cbasn1.SEQUENCE) ||
		!eci.ReadASN1ObjectIdentifier(&etype) || !eci.ReadASN1(&ec, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!ec.ReadASN1(&oct, cbasn1.OCTET_STRING) {
		return nil, errMalformed
	}
	return oct, nil
}

func TestFixtureWalkerFindsTokens(t *testing.T) {
	toks := fixtureTokens(t, "real/*.nupkg")
	files := map[string]bool{}
	for _, tk := range toks {
		files[tk.file] = true
	}
	if len(files) != 29 {
		t.Fatalf("tokens found in %d real packages, want all 29", len(files))
	}
}
