// Package nupkgtest generates valid, deterministic NuGet packages for tests
// and benchmarks: the same Spec always gives the same bytes.
//
// A generated package is laid out as `dotnet pack` lays one out:
// _rels/.rels, the <id>.nuspec manifest, the files in name order, the
// optional large file, the OPC core-properties part and
// [Content_Types].xml, every entry with its sizes and CRC in its local header
// (no data descriptors). Small files are deflated; the large file is stored
// and streamed from a deterministic generator, so a 1 GiB package is written
// without 1 GiB of memory.
package nupkgtest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"
)

// ModTime is the modification time of every generated entry: fixed, so
// output is deterministic.
var ModTime = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)

// Spec describes a package to generate. Only ID is required.
type Spec struct {
	ID string
	// Version defaults to "1.0.0".
	Version string
	// Authors defaults to "Signet"; Description to "A test package.".
	Authors, Description string
	// Dependencies maps a target framework ("" for a group without one) to
	// its dependencies; each framework becomes a <group>.
	Dependencies map[string][]Dependency
	// Files maps entry names ("lib/net8.0/A.dll") to contents; they are
	// deflated. Names are written as given (no OPC escaping).
	Files map[string][]byte
	// ExtraMetadata is raw XML added inside <metadata> as given, for
	// elements the other fields do not cover ("<tags>a b</tags>",
	// "<readme>README.md</readme>", "<packageTypes>…").
	ExtraMetadata string
	// Large, when set, adds one stored entry of Large.Size deterministic
	// bytes (see LargeData), streamed rather than held in memory.
	Large *LargeFile
}

// Dependency is one <dependency> of a generated nuspec.
type Dependency struct {
	ID, Version string
}

// LargeFile is a big stored entry whose content LargeData generates.
type LargeFile struct {
	Name string
	Size int64
}

// Write writes the package described by s to w.
func Write(w io.Writer, s Spec) error {
	if s.ID == "" {
		return fmt.Errorf("nupkgtest: the spec has no id")
	}
	if s.Version == "" {
		s.Version = "1.0.0"
	}
	if s.Authors == "" {
		s.Authors = "Signet"
	}
	if s.Description == "" {
		s.Description = "A test package."
	}
	sum := sha256.Sum256([]byte(s.ID + "\x00" + s.Version))
	psmdcp := "package/services/metadata/core-properties/" + hex.EncodeToString(sum[:16]) + ".psmdcp"

	zw := zip.NewWriter(w)
	names := make([]string, 0, len(s.Files))
	for name := range s.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	all := append([]string{"_rels/.rels", s.ID + ".nuspec"}, names...)
	if s.Large != nil {
		all = append(all, s.Large.Name)
	}
	all = append(all, psmdcp, "[Content_Types].xml")

	if err := writeDeflated(zw, "_rels/.rels", rels(s.ID, psmdcp, sum)); err != nil {
		return err
	}
	if err := writeDeflated(zw, s.ID+".nuspec", nuspec(s)); err != nil {
		return err
	}
	for _, name := range names {
		if err := writeDeflated(zw, name, s.Files[name]); err != nil {
			return err
		}
	}
	if s.Large != nil {
		if err := writeLarge(zw, *s.Large); err != nil {
			return err
		}
	}
	if err := writeDeflated(zw, psmdcp, coreProperties(s)); err != nil {
		return err
	}
	if err := writeDeflated(zw, "[Content_Types].xml", contentTypes(all)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("nupkgtest: %w", err)
	}
	return nil
}

// TB is the part of testing.TB that Bytes uses; an interface here keeps the
// testing package out of binaries that generate packages (signet demo).
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Bytes returns the package described by s, failing tb on error.
func Bytes(tb TB, s Spec) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := Write(&b, s); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// LargeData returns the deterministic content of a large file: size bytes
// of ChaCha8 output seeded by the name.
func LargeData(name string, size int64) io.Reader {
	seed := sha256.Sum256([]byte("nupkgtest large file\x00" + name))
	return io.LimitReader(rand.NewChaCha8(seed), size)
}

func header(name string, method uint16) *zip.FileHeader {
	fh := &zip.FileHeader{Name: name, Method: method}
	// The MS-DOS fields, not Modified: Modified would add an extended
	// timestamp extra field, which dotnet pack does not write.
	fh.ModifiedDate, fh.ModifiedTime = dosDate(ModTime), dosTime(ModTime)
	return fh
}

func writeDeflated(zw *zip.Writer, name string, data []byte) error {
	var c bytes.Buffer
	fw, err := flate.NewWriter(&c, flate.DefaultCompression)
	if err != nil {
		return fmt.Errorf("nupkgtest: %w", err)
	}
	if _, err := fw.Write(data); err != nil {
		return fmt.Errorf("nupkgtest: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("nupkgtest: %w", err)
	}
	fh := header(name, zip.Deflate)
	fh.CRC32 = crc32.ChecksumIEEE(data)
	fh.CompressedSize64 = uint64(c.Len())
	fh.UncompressedSize64 = uint64(len(data))
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return fmt.Errorf("nupkgtest: %q: %w", name, err)
	}
	if _, err := w.Write(c.Bytes()); err != nil {
		return fmt.Errorf("nupkgtest: %q: %w", name, err)
	}
	return nil
}

// writeLarge streams a stored entry in two passes over the generator: one
// for the CRC-32 the local header needs, one for the data.
func writeLarge(zw *zip.Writer, lf LargeFile) error {
	buf := make([]byte, 1<<20)
	crc := crc32.NewIEEE()
	if _, err := io.CopyBuffer(crc, LargeData(lf.Name, lf.Size), buf); err != nil {
		return fmt.Errorf("nupkgtest: %w", err)
	}
	fh := header(lf.Name, zip.Store)
	fh.CRC32 = crc.Sum32()
	fh.CompressedSize64 = uint64(lf.Size)
	fh.UncompressedSize64 = uint64(lf.Size)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return fmt.Errorf("nupkgtest: %q: %w", lf.Name, err)
	}
	if _, err := io.CopyBuffer(w, LargeData(lf.Name, lf.Size), buf); err != nil {
		return fmt.Errorf("nupkgtest: %q: %w", lf.Name, err)
	}
	return nil
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

func nuspec(s Spec) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">` + "\n")
	b.WriteString("  <metadata>\n")
	fmt.Fprintf(&b, "    <id>%s</id>\n    <version>%s</version>\n    <authors>%s</authors>\n    <description>%s</description>\n",
		esc(s.ID), esc(s.Version), esc(s.Authors), esc(s.Description))
	if len(s.Dependencies) > 0 {
		fws := make([]string, 0, len(s.Dependencies))
		for fw := range s.Dependencies {
			fws = append(fws, fw)
		}
		slices.Sort(fws)
		b.WriteString("    <dependencies>\n")
		for _, fw := range fws {
			if fw == "" {
				b.WriteString("      <group>\n")
			} else {
				fmt.Fprintf(&b, "      <group targetFramework=\"%s\">\n", esc(fw))
			}
			for _, d := range s.Dependencies[fw] {
				fmt.Fprintf(&b, "        <dependency id=\"%s\" version=\"%s\" exclude=\"Build,Analyzers\" />\n", esc(d.ID), esc(d.Version))
			}
			b.WriteString("      </group>\n")
		}
		b.WriteString("    </dependencies>\n")
	}
	if s.ExtraMetadata != "" {
		b.WriteString("    " + s.ExtraMetadata + "\n")
	}
	b.WriteString("  </metadata>\n</package>")
	return []byte(b.String())
}

func rels(id, psmdcp string, sum [32]byte) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/` + esc(id) + `.nuspec" Id="R` + strings.ToUpper(hex.EncodeToString(sum[16:24])) + `" />` +
		`<Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="/` + psmdcp + `" Id="R` + strings.ToUpper(hex.EncodeToString(sum[24:32])) + `" />` +
		`</Relationships>`)
}

func coreProperties(s Spec) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">` +
		`<dc:creator>` + esc(s.Authors) + `</dc:creator><dc:description>` + esc(s.Description) + `</dc:description><dc:identifier>` + esc(s.ID) + `</dc:identifier>` +
		`<version>` + esc(s.Version) + `</version><keywords></keywords><lastModifiedBy>signet nupkgtest</lastModifiedBy></coreProperties>`)
}

// contentTypes lists a Default content type per file extension and an
// Override for files without one, as NuGet's packer does.
func contentTypes(names []string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`)
	b.WriteString(`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />`)
	b.WriteString(`<Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />`)
	seen := map[string]bool{"rels": true, "psmdcp": true}
	for _, n := range names {
		if n == "[Content_Types].xml" {
			continue
		}
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(n)), ".")
		switch {
		case ext == "":
			b.WriteString(`<Override PartName="/` + esc(n) + `" ContentType="application/octet" />`)
		case !seen[ext]:
			seen[ext] = true
			b.WriteString(`<Default Extension="` + esc(ext) + `" ContentType="application/octet" />`)
		}
	}
	b.WriteString(`</Types>`)
	return []byte(b.String())
}

func dosDate(t time.Time) uint16 {
	return uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
}

func dosTime(t time.Time) uint16 {
	return uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
}
