package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/nupkg"
)

// Bounds on what a pushed package may ask of the feed and of the clients
// that will extract it.
const (
	// maxExpandedSize bounds the sum of the entries' uncompressed sizes.
	// A 32-bit zip cannot announce more than 4 GiB per entry; real packages
	// expand to a few times their size, rarely past a gigabyte.
	maxExpandedSize = 8 << 30
	// maxExpansionRatio bounds how much larger than the package its
	// entries may expand, once they pass minRatioCheck in total: a zip bomb
	// expands thousands of times, real packages (even of text) well under
	// 20 times.
	maxExpansionRatio = 100
	minRatioCheck     = 64 << 20
	// maxReadmeSize bounds a package's readme, as nuget.org does (1 MB).
	maxReadmeSize = 1 << 20
)

// badPackage is a reason to refuse a pushed package with 400.
type badPackage struct{ msg string }

func (e *badPackage) Error() string { return e.msg }

func refuse(format string, args ...any) error {
	return &badPackage{msg: fmt.Sprintf(format, args...)}
}

// A pushed package, opened and checked.
type upload struct {
	file    *os.File
	size    int64
	pkg     *nupkg.Package
	nuspec  *nupkg.Nuspec
	version nuget.Version
	// readme is the name of the readme entry, if the nuspec names one that
	// exists.
	readme string
}

// inspect opens the spooled package and applies the feed's checks. A
// package that fails one is a *badPackage naming the problem.
func inspect(f *os.File, size int64) (*upload, error) {
	p, err := nupkg.Open(f, size)
	if err != nil {
		return nil, refuse("The package is not a valid zip archive: %s.", strings.TrimPrefix(err.Error(), "nupkg: "))
	}
	if err := checkEntries(p); err != nil {
		return nil, err
	}
	ns, err := p.Nuspec()
	if err != nil {
		return nil, refuse("The package manifest (.nuspec) is missing or invalid: %s.", strings.TrimPrefix(err.Error(), "nupkg: "))
	}
	v, err := nuget.ParseVersion(ns.OriginalVersion)
	if err != nil {
		return nil, refuse("The package version %q is not a valid NuGet version.", ns.OriginalVersion)
	}
	if len(ns.ID) > nuget.MaxIDLength || !nuget.ValidID(ns.ID) {
		return nil, refuse("The package ID %q is not valid.", ns.ID)
	}
	u := &upload{file: f, size: size, pkg: p, nuspec: ns, version: v}
	if ns.Readme != "" {
		name := strings.ReplaceAll(ns.Readme, `\`, "/")
		for _, e := range p.Entries() {
			if entryPath(e.Name) == name {
				if e.UncompressedSize > maxReadmeSize {
					return nil, refuse("The readme file %q is larger than %d bytes.", ns.Readme, maxReadmeSize)
				}
				u.readme = e.Name
				break
			}
		}
		if u.readme == "" {
			return nil, refuse("The readme file %q named in the manifest is not in the package.", ns.Readme)
		}
	}
	return u, nil
}

// entryPath is the path an entry extracts to: NuGet escapes names like URI
// paths (OPC), and unescapes them when extracting.
func entryPath(name string) string {
	if un, err := url.PathUnescape(name); err == nil {
		name = un
	}
	return strings.ReplaceAll(name, `\`, "/")
}

// checkEntries refuses entry names that would extract outside the package
// folder (zip slip), names that collide when extracted on a
// case-insensitive file system, and archives that expand far beyond their
// size (zip bombs).
func checkEntries(p *nupkg.Package) error {
	seen := map[string]bool{}
	var expanded uint64
	for _, e := range p.Entries() {
		if err := checkEntryName(e.Name); err != nil {
			return err
		}
		key := strings.ToLower(strings.TrimSuffix(entryPath(e.Name), "/"))
		if seen[key] {
			return refuse("The package contains the entry %q more than once.", e.Name)
		}
		seen[key] = true
		expanded += e.UncompressedSize
		if expanded > maxExpandedSize {
			return refuse("The package expands to more than %d bytes.", uint64(maxExpandedSize))
		}
	}
	if expanded > minRatioCheck && expanded/uint64(max(p.Size(), 1)) > maxExpansionRatio {
		return refuse("The package expands to %d bytes, more than %d times its size: refused as a zip bomb.", expanded, maxExpansionRatio)
	}
	return nil
}

// checkEntryName refuses a name that is absolute, climbs out with "..",
// names a drive or holds control characters, as stored or once unescaped.
func checkEntryName(name string) error {
	for _, n := range []string{name, entryPath(name)} {
		n = strings.ReplaceAll(n, `\`, "/")
		bad := n == "" || strings.HasPrefix(n, "/") || strings.ContainsAny(n, "\x00") ||
			(len(n) >= 2 && n[1] == ':') || strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 })
		for seg := range strings.SplitSeq(n, "/") {
			if seg == ".." {
				bad = true
			}
		}
		if bad {
			return refuse("The package contains an entry with an unsafe path: %q.", name)
		}
	}
	return nil
}

// The shapes stored in a version's JSON columns. URLs are not stored: they
// depend on the feed's base URL, which may change.
type depGroup struct {
	TargetFramework string `json:"targetFramework,omitempty"`
	Dependencies    []dep  `json:"dependencies"`
}

type dep struct {
	ID    string `json:"id"`
	Range string `json:"range"`
}

// extra is the nuspec facts the feed shows beyond the version's columns.
type extra struct {
	Summary                  string   `json:"summary,omitempty"`
	IconURL                  string   `json:"iconUrl,omitempty"`
	ProjectURL               string   `json:"projectUrl,omitempty"`
	LicenseURL               string   `json:"licenseUrl,omitempty"`
	LicenseExpression        string   `json:"licenseExpression,omitempty"`
	Language                 string   `json:"language,omitempty"`
	MinClientVersion         string   `json:"minClientVersion,omitempty"`
	RequireLicenseAcceptance bool     `json:"requireLicenseAcceptance,omitempty"`
	ReleaseNotes             string   `json:"releaseNotes,omitempty"`
	Copyright                string   `json:"copyright,omitempty"`
	Readme                   bool     `json:"readme,omitempty"`
	RepositoryURL            string   `json:"repositoryUrl,omitempty"`
	Owners                   string   `json:"owners,omitempty"`
	PackageTypeVersions      []string `json:"packageTypeVersions,omitempty"`
}

// normalRange is a dependency's version range as the feed serves it: a
// bare version v means "v or higher", written "[v, )" as nuget.org does; an
// empty range is any version; other ranges are served as written.
func normalRange(r string) string {
	r = strings.TrimSpace(r)
	if r == "" {
		return "(, )"
	}
	if v, err := nuget.ParseVersion(r); err == nil {
		return "[" + v.String() + ", )"
	}
	return r
}

// versionRow builds the store row of an inspected package as served
// (sum and size of the final bytes).
func versionRow(u *upload, sum []byte, size int64) (store.Version, error) {
	ns := u.nuspec
	groups := make([]depGroup, 0, len(ns.DependencyGroups))
	for _, g := range ns.DependencyGroups {
		dg := depGroup{TargetFramework: g.TargetFramework, Dependencies: []dep{}}
		for _, d := range g.Dependencies {
			dg.Dependencies = append(dg.Dependencies, dep{ID: d.ID, Range: normalRange(d.Version)})
		}
		groups = append(groups, dg)
	}
	ex := extra{
		Summary: ns.Summary, IconURL: ns.IconURL, ProjectURL: ns.ProjectURL, LicenseURL: ns.LicenseURL,
		Language: ns.Language, MinClientVersion: ns.MinClientVersion,
		RequireLicenseAcceptance: ns.RequireLicenseAcceptance, ReleaseNotes: ns.ReleaseNotes,
		Copyright: ns.Copyright, Readme: u.readme != "", Owners: ns.Owners,
	}
	if ns.License != nil && ns.License.Type == "expression" {
		ex.LicenseExpression = ns.License.Text
	}
	if ns.Repository != nil {
		ex.RepositoryURL = ns.Repository.URL
	}
	var types []string
	for _, t := range ns.PackageTypes {
		if t.Name == "" || strings.ContainsAny(t.Name, " \t\r\n") {
			return store.Version{}, refuse("The package type %q is not valid.", t.Name)
		}
		types = append(types, t.Name)
		ex.PackageTypeVersions = append(ex.PackageTypeVersions, t.Version)
	}
	depJSON, err := json.Marshal(groups)
	if err != nil {
		return store.Version{}, err
	}
	exJSON, err := json.Marshal(ex)
	if err != nil {
		return store.Version{}, err
	}
	return store.Version{
		PackageID:        ns.ID,
		Version:          u.version.String(),
		OriginalVersion:  ns.OriginalVersion,
		Listed:           true,
		SHA512:           sum,
		Size:             size,
		Prerelease:       u.version.IsPrerelease(),
		SemVer2:          u.version.IsSemVer2(),
		Title:            ns.Title,
		Description:      ns.Description,
		Authors:          ns.Authors,
		Tags:             strings.Fields(ns.Tags),
		PackageTypes:     types,
		DependencyGroups: depJSON,
		Extra:            exJSON,
		SignatureStatus:  "unsigned",
	}, nil
}

// readEntry reads a whole entry of at most limit bytes.
func readEntry(p *nupkg.Package, name string, limit int64) ([]byte, error) {
	rc, err := p.OpenEntry(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("entry too large")
	}
	return b, nil
}

// jsonUnmarshal decodes a JSON column written by the feed; a column that
// does not decode (it never should) leaves v as it was.
func jsonUnmarshal(b []byte, v any) {
	_ = json.Unmarshal(b, v)
}
