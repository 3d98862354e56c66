package project

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
)

// maxConfigPackages bounds the entries of a packages.config; real ones
// list tens to a few hundred packages.
const maxConfigPackages = 10_000

// PackagesConfig is a packages.config file: the exact packages to install.
type PackagesConfig struct {
	Path     string
	Packages []ConfigPackage
}

// ConfigPackage is one <package> entry.
type ConfigPackage struct {
	ID      string
	Version nuget.Version
	// TargetFramework is the targetFramework attribute as written ("net472"),
	// "" when absent. It records what the package was installed for; a
	// restore does not use it to choose anything.
	TargetFramework string
	// AllowedVersions is the allowedVersions range as written, "" when
	// absent; it constrains updates, not restores.
	AllowedVersions string
	// DevelopmentDependency mirrors developmentDependency="true".
	DevelopmentDependency bool
}

// ReadPackagesConfig reads a packages.config file.
func ReadPackagesConfig(path string) (*PackagesConfig, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, &Error{Path: path, Message: err.Error()}
	}
	pc, err := ParsePackagesConfig(data)
	if err != nil {
		return nil, &Error{Path: path, Message: err.Error()}
	}
	pc.Path = path
	return pc, nil
}

// ParsePackagesConfig parses the contents of a packages.config: a
// <packages> root with <package id="…" version="…"/> entries. The id must
// be a valid package id and the version a valid version (packages.config
// pins exact versions, no ranges); an id listed twice is an error, as in
// NuGet. Unknown elements and attributes are ignored.
func ParsePackagesConfig(data []byte) (*PackagesConfig, error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, fmt.Errorf("invalid XML: %w", err)
	}
	if root.name != "packages" {
		return nil, fmt.Errorf("root element is <%s>, not <packages>", root.name)
	}
	pc := &PackagesConfig{}
	seen := map[string]string{}
	for _, e := range root.children {
		if e.name != "package" {
			continue
		}
		if len(pc.Packages) >= maxConfigPackages {
			return nil, fmt.Errorf("more than %d packages", maxConfigPackages)
		}
		id, _ := e.attr("id")
		id = strings.TrimSpace(id)
		if !nuget.ValidID(id) {
			return nil, fmt.Errorf("invalid package id %q", id)
		}
		text, ok := e.attr("version")
		if !ok {
			return nil, fmt.Errorf("package %s has no version", id)
		}
		v, err := nuget.ParseVersion(text)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", id, err)
		}
		k := strings.ToLower(id)
		if prev, dup := seen[k]; dup {
			return nil, fmt.Errorf("duplicate packages: %s %s and %s %s", id, prev, id, v)
		}
		seen[k] = v.String()
		p := ConfigPackage{ID: id, Version: v}
		p.TargetFramework, _ = e.attr("targetFramework")
		p.AllowedVersions, _ = e.attr("allowedVersions")
		if dev, ok := e.attr("developmentDependency"); ok {
			p.DevelopmentDependency = strings.EqualFold(strings.TrimSpace(dev), "true")
		}
		if p.AllowedVersions != "" {
			if _, err := nuget.ParseRange(p.AllowedVersions); err != nil {
				return nil, fmt.Errorf("package %s: allowedVersions: %w", id, err)
			}
		}
		pc.Packages = append(pc.Packages, p)
	}
	return pc, nil
}

// Kind is the kind of a restore input.
type Kind int

const (
	// KindProject is a PackageReference project file.
	KindProject Kind = iota + 1
	// KindPackagesConfig is a packages.config file.
	KindPackagesConfig
)

func (k Kind) String() string {
	switch k {
	case KindProject:
		return "project"
	case KindPackagesConfig:
		return "packages.config"
	}
	return "unknown"
}

// projectExtensions are the project files restore accepts.
var projectExtensions = []string{".csproj", ".fsproj", ".vbproj"}

// Locate finds the restore input at path, as "dotnet restore" and
// "nuget restore" do for a path argument: a project file or a
// packages.config is itself; a directory holding exactly one project file
// is that project; a directory without project file but with a
// packages.config is that file. A directory with several project files is
// an error (name one); solution files are not supported. An empty path is
// the current directory.
func Locate(path string) (Kind, string, error) {
	if path == "" {
		path = "."
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, "", fmt.Errorf("project: %w", err)
	}
	if !st.IsDir() {
		if k := kindOf(path); k != 0 {
			return k, path, nil
		}
		return 0, "", fmt.Errorf("project: %s is neither a project file (%s) nor a packages.config", path, strings.Join(projectExtensions, ", "))
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return 0, "", fmt.Errorf("project: %w", err)
	}
	var projects []string
	config := ""
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch kindOf(e.Name()) {
		case KindProject:
			projects = append(projects, e.Name())
		case KindPackagesConfig:
			if e.Name() == "packages.config" {
				config = e.Name()
			}
		}
	}
	switch {
	case len(projects) == 1:
		return KindProject, filepath.Join(path, projects[0]), nil
	case len(projects) > 1:
		return 0, "", fmt.Errorf("project: %s holds several project files (%s); name one", path, strings.Join(projects, ", "))
	case config != "":
		return KindPackagesConfig, filepath.Join(path, config), nil
	}
	return 0, "", fmt.Errorf("project: %s holds no project file and no packages.config", path)
}

func kindOf(name string) Kind {
	base := strings.ToLower(filepath.Base(name))
	for _, ext := range projectExtensions {
		if strings.HasSuffix(base, ext) {
			return KindProject
		}
	}
	if base == "packages.config" || (strings.HasPrefix(base, "packages.") && strings.HasSuffix(base, ".config")) {
		return KindPackagesConfig
	}
	return 0
}
