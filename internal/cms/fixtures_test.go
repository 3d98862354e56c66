package cms

import (
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// manifestRow is the part of MANIFEST.tsv these tests check against.
type manifestRow struct {
	file            string
	kind            string // signature_kind
	primaryCN       string
	countersignerCN string
	tsaCN           string
	counterTSACN    string
	nCerts          int
	contentHashOK   string
	cmsSigOK        string
}

// fixtureSig is one signature from the corpus with what the manifest says
// about it.
type fixtureSig struct {
	name string
	p7s  []byte
	row  manifestRow
}

// readManifest reads MANIFEST.tsv into rows keyed by file.
func readManifest(t testing.TB) map[string]manifestRow {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(fixtures.Read(t, "MANIFEST.tsv")), "\n"), "\n")
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], "\t") {
		col[h] = i
	}
	for _, h := range []string{"file", "signature_kind", "primary_signer_CN", "countersigner_CN", "tsa_CN", "countersig_tsa_CN", "n_certs_in_bag", "content_hash_ok", "cms_sig_ok"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("MANIFEST.tsv has no column %q", h)
		}
	}
	rows := map[string]manifestRow{}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		for len(f) < len(col) {
			f = append(f, "")
		}
		n, _ := strconv.Atoi(f[col["n_certs_in_bag"]])
		rows[f[col["file"]]] = manifestRow{
			file:            f[col["file"]],
			kind:            f[col["signature_kind"]],
			primaryCN:       f[col["primary_signer_CN"]],
			countersignerCN: f[col["countersigner_CN"]],
			tsaCN:           f[col["tsa_CN"]],
			counterTSACN:    f[col["countersig_tsa_CN"]],
			nCerts:          n,
			contentHashOK:   f[col["content_hash_ok"]],
			cmsSigOK:        f[col["cms_sig_ok"]],
		}
	}
	return rows
}

// hasSignature reports whether the manifest says the file carries a
// readable signature: a primary signer is named, and the zip is readable
// (MaterialDesignColors was mangled by CRLF conversion).
func (r manifestRow) hasSignature() bool {
	return r.primaryCN != "" && r.contentHashOK != "ERR"
}

// signatureEntry returns the .signature.p7s entry of a package with
// archive/zip.
func signatureEntry(t testing.TB, pkg []byte) ([]byte, bool) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, false
	}
	for _, f := range zr.File {
		if f.Name != ".signature.p7s" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, false
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, false
		}
		return b, true
	}
	return nil, false
}

// fixtureSignatures returns every signature of the corpus the manifest says
// exists: real/*.nupkg, invalid/*.nupkg and the bare
// invalid/NuGet.Client-test.signature.p7s. It fails when one cannot be read.
func fixtureSignatures(t testing.TB) []fixtureSig {
	t.Helper()
	rows := readManifest(t)
	dir := fixtures.Dir(t)
	var out []fixtureSig
	paths := append(fixtures.Glob(t, "real/*.nupkg"), fixtures.Glob(t, "invalid/*.nupkg")...)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		row, ok := rows[rel]
		if !ok {
			t.Fatalf("%s is not in MANIFEST.tsv", rel)
		}
		if !row.hasSignature() {
			continue
		}
		sig, ok := signatureEntry(t, fixtures.Read(t, rel))
		if !ok {
			t.Fatalf("%s: no readable .signature.p7s entry", rel)
		}
		out = append(out, fixtureSig{name: rel, p7s: sig, row: row})
	}
	const bare = "invalid/NuGet.Client-test.signature.p7s"
	out = append(out, fixtureSig{name: bare, p7s: fixtures.Read(t, bare), row: rows[bare]})
	return out
}
