package nupkg

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/signet-nuget/signet/internal/nuget"
)

// Nuspec is the package manifest: the <metadata> of a .nuspec file. Text
// values are trimmed of surrounding white space; absent ones are empty.
type Nuspec struct {
	// ID is the package id, checked against NuGet's id rule.
	ID string
	// Version is the package version in NuGet's normalised form ("1.0" is
	// "1.0.0", metadata dropped); OriginalVersion is the text as written.
	Version, OriginalVersion string
	// MinClientVersion is the metadata element's minClientVersion attribute.
	MinClientVersion string

	Title, Authors, Owners, Description, Summary, ReleaseNotes string
	Copyright, Language, Tags                                  string
	ProjectURL, IconURL, Icon, LicenseURL, Readme              string

	RequireLicenseAcceptance, DevelopmentDependency, Serviceable bool

	// License is the <license> element, nil when absent.
	License *License
	// Repository is the <repository> element, nil when absent.
	Repository *Repository
	// PackageTypes lists <packageTypes>; empty means a dependency package.
	PackageTypes []PackageType
	// DependencyGroups lists the dependency groups. A nuspec without
	// <group> elements but with flat legacy <dependency> elements gets one
	// group with an empty TargetFramework holding them, as NuGet reads it.
	DependencyGroups []DependencyGroup
	// FrameworkAssemblies lists <frameworkAssemblies>.
	FrameworkAssemblies []FrameworkAssembly
}

// License is a nuspec <license> element: Type is "expression" or "file",
// Text the SPDX expression or the file path.
type License struct {
	Type, Version, Text string
}

// Repository is a nuspec <repository> element.
type Repository struct {
	Type, URL, Branch, Commit string
}

// PackageType is a nuspec <packageType> element.
type PackageType struct {
	Name, Version string
}

// DependencyGroup holds the dependencies for one target framework (empty:
// any framework).
type DependencyGroup struct {
	TargetFramework string
	Dependencies    []Dependency
}

// Dependency is a nuspec <dependency>: Version is the version range as
// written (NuGet range syntax, unparsed); Include and Exclude are the asset
// lists.
type Dependency struct {
	ID, Version, Include, Exclude string
}

// FrameworkAssembly is a nuspec <frameworkAssembly> element.
type FrameworkAssembly struct {
	AssemblyName, TargetFramework string
}

// Nuspec reads and parses the package's manifest: the one entry at the
// archive root (no "/" or "\" in its name) whose name ends in ".nuspec",
// ignoring case, as NuGet finds it. No such entry, several, or one larger than
// MaxNuspecSize is an error.
func (p *Package) Nuspec() (*Nuspec, error) {
	found := -1
	for i := range p.entries {
		name := p.entries[i].Name
		if strings.ContainsAny(name, `/\`) || len(name) < len(".nuspec") || !strings.EqualFold(name[len(name)-len(".nuspec"):], ".nuspec") {
			continue
		}
		if found >= 0 {
			return nil, fmt.Errorf("nupkg: the package has several .nuspec manifests at its root (%q and %q)", p.entries[found].Name, name)
		}
		found = i
	}
	if found < 0 {
		return nil, errors.New("nupkg: the package has no .nuspec manifest at its root")
	}
	e := &p.entries[found]
	if e.UncompressedSize > MaxNuspecSize {
		return nil, fmt.Errorf("nupkg: the manifest %q is %d bytes, more than the %d-byte limit", e.Name, e.UncompressedSize, MaxNuspecSize)
	}
	rc, err := p.openIndex(found)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return ParseNuspec(rc)
}

// ParseNuspec parses a .nuspec document read from r, at most MaxNuspecSize
// bytes. Any XML namespace is accepted (NuGet has used several). The
// document is UTF-8 (a byte order mark is allowed) or UTF-16 with a byte
// order mark. The id must satisfy NuGet's id rule and the version must parse
// as a NuGet version; both must appear exactly once, in one <metadata>.
// Go's XML decoder does not expand external entities or DTDs.
func ParseNuspec(r io.Reader) (*Nuspec, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxNuspecSize+1))
	if err != nil {
		return nil, fmt.Errorf("nupkg: reading the nuspec: %w", err)
	}
	if len(data) > MaxNuspecSize {
		return nil, fmt.Errorf("nupkg: the nuspec is larger than the %d-byte limit", MaxNuspecSize)
	}
	data, err = toUTF8(data)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
			// UTF-16 was transcoded by toUTF8; ASCII is UTF-8.
			return in, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	var doc xmlPackage
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("nupkg: the nuspec is not valid XML: %w", err)
	}
	if len(doc.Metadata) != 1 {
		return nil, fmt.Errorf("nupkg: the nuspec has %d <metadata> elements, want 1", len(doc.Metadata))
	}
	return doc.Metadata[0].nuspec()
}

// toUTF8 strips a UTF-8 byte order mark and transcodes UTF-16 marked by
// one.
func toUTF8(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:], nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		if len(b)%2 != 0 {
			return nil, errors.New("nupkg: the UTF-16 nuspec has an odd number of bytes")
		}
		big := b[0] == 0xFE
		u := make([]uint16, 0, len(b)/2-1)
		for i := 2; i < len(b); i += 2 {
			if big {
				u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
			} else {
				u = append(u, uint16(b[i+1])<<8|uint16(b[i]))
			}
		}
		return []byte(string(utf16.Decode(u))), nil
	}
	return b, nil
}

// The XML shape of a nuspec. Element names carry no namespace, so they match
// in any namespace.
type xmlPackage struct {
	XMLName  xml.Name      `xml:"package"`
	Metadata []xmlMetadata `xml:"metadata"`
}

type xmlMetadata struct {
	MinClientVersion         string   `xml:"minClientVersion,attr"`
	ID                       []string `xml:"id"`
	Version                  []string `xml:"version"`
	Title                    string   `xml:"title"`
	Authors                  string   `xml:"authors"`
	Owners                   string   `xml:"owners"`
	Description              string   `xml:"description"`
	Summary                  string   `xml:"summary"`
	ReleaseNotes             string   `xml:"releaseNotes"`
	Copyright                string   `xml:"copyright"`
	Language                 string   `xml:"language"`
	Tags                     string   `xml:"tags"`
	ProjectURL               string   `xml:"projectUrl"`
	IconURL                  string   `xml:"iconUrl"`
	Icon                     string   `xml:"icon"`
	LicenseURL               string   `xml:"licenseUrl"`
	Readme                   string   `xml:"readme"`
	RequireLicenseAcceptance string   `xml:"requireLicenseAcceptance"`
	DevelopmentDependency    string   `xml:"developmentDependency"`
	Serviceable              string   `xml:"serviceable"`
	License                  *struct {
		Type    string `xml:"type,attr"`
		Version string `xml:"version,attr"`
		Text    string `xml:",chardata"`
	} `xml:"license"`
	Repository *struct {
		Type   string `xml:"type,attr"`
		URL    string `xml:"url,attr"`
		Branch string `xml:"branch,attr"`
		Commit string `xml:"commit,attr"`
	} `xml:"repository"`
	PackageTypes []struct {
		Name    string `xml:"name,attr"`
		Version string `xml:"version,attr"`
	} `xml:"packageTypes>packageType"`
	Groups []struct {
		TargetFramework string          `xml:"targetFramework,attr"`
		Dependencies    []xmlDependency `xml:"dependency"`
	} `xml:"dependencies>group"`
	FlatDependencies    []xmlDependency `xml:"dependencies>dependency"`
	FrameworkAssemblies []struct {
		AssemblyName    string `xml:"assemblyName,attr"`
		TargetFramework string `xml:"targetFramework,attr"`
	} `xml:"frameworkAssemblies>frameworkAssembly"`
}

type xmlDependency struct {
	ID      string `xml:"id,attr"`
	Version string `xml:"version,attr"`
	Include string `xml:"include,attr"`
	Exclude string `xml:"exclude,attr"`
}

func (m *xmlMetadata) nuspec() (*Nuspec, error) {
	if len(m.ID) != 1 {
		return nil, fmt.Errorf("nupkg: the nuspec has %d <id> elements, want 1", len(m.ID))
	}
	if len(m.Version) != 1 {
		return nil, fmt.Errorf("nupkg: the nuspec has %d <version> elements, want 1", len(m.Version))
	}
	t := strings.TrimSpace
	n := &Nuspec{
		ID:                       t(m.ID[0]),
		OriginalVersion:          t(m.Version[0]),
		MinClientVersion:         t(m.MinClientVersion),
		Title:                    t(m.Title),
		Authors:                  t(m.Authors),
		Owners:                   t(m.Owners),
		Description:              t(m.Description),
		Summary:                  t(m.Summary),
		ReleaseNotes:             t(m.ReleaseNotes),
		Copyright:                t(m.Copyright),
		Language:                 t(m.Language),
		Tags:                     t(m.Tags),
		ProjectURL:               t(m.ProjectURL),
		IconURL:                  t(m.IconURL),
		Icon:                     t(m.Icon),
		LicenseURL:               t(m.LicenseURL),
		Readme:                   t(m.Readme),
		RequireLicenseAcceptance: isTrue(m.RequireLicenseAcceptance),
		DevelopmentDependency:    isTrue(m.DevelopmentDependency),
		Serviceable:              isTrue(m.Serviceable),
	}
	if !nuget.ValidID(n.ID) {
		return nil, fmt.Errorf("nupkg: the nuspec id %q is not a valid package id", n.ID)
	}
	v, err := nuget.ParseVersion(n.OriginalVersion)
	if err != nil {
		return nil, fmt.Errorf("nupkg: the nuspec version: %w", err)
	}
	n.Version = v.String()
	if l := m.License; l != nil {
		n.License = &License{Type: t(l.Type), Version: t(l.Version), Text: t(l.Text)}
	}
	if r := m.Repository; r != nil {
		n.Repository = &Repository{Type: t(r.Type), URL: t(r.URL), Branch: t(r.Branch), Commit: t(r.Commit)}
	}
	for _, pt := range m.PackageTypes {
		n.PackageTypes = append(n.PackageTypes, PackageType{Name: t(pt.Name), Version: t(pt.Version)})
	}
	for _, g := range m.Groups {
		n.DependencyGroups = append(n.DependencyGroups, DependencyGroup{TargetFramework: t(g.TargetFramework), Dependencies: dependencies(g.Dependencies)})
	}
	if len(m.Groups) == 0 && len(m.FlatDependencies) > 0 {
		n.DependencyGroups = []DependencyGroup{{Dependencies: dependencies(m.FlatDependencies)}}
	}
	for _, fa := range m.FrameworkAssemblies {
		n.FrameworkAssemblies = append(n.FrameworkAssemblies, FrameworkAssembly{AssemblyName: t(fa.AssemblyName), TargetFramework: t(fa.TargetFramework)})
	}
	return n, nil
}

func dependencies(ds []xmlDependency) []Dependency {
	out := make([]Dependency, 0, len(ds))
	for _, d := range ds {
		out = append(out, Dependency{
			ID:      strings.TrimSpace(d.ID),
			Version: strings.TrimSpace(d.Version),
			Include: strings.TrimSpace(d.Include),
			Exclude: strings.TrimSpace(d.Exclude),
		})
	}
	return out
}

// isTrue reads a nuspec boolean as NuGet does: "true" in any case.
func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }
