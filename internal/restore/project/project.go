// Package project reads what a restore needs from the files a user points
// it at: an SDK-style project (.csproj, .fsproj, .vbproj) with its
// PackageReference items, optionally under central package management, or a
// packages.config. It reads files only (no nuget.config, no network), each
// bounded in size, with encoding/xml, which resolves no external entity.
//
// # Projects
//
// A project is evaluated the way MSBuild would for a restore, restricted to
// what decides the references:
//
//   - The files are Directory.Build.props (the nearest one at or above the
//     project's directory), Directory.Packages.props (likewise) and the
//     project, in the order MSBuild imports them. Their <Import> elements
//     are not followed (a warning lists them, except SDK imports), and
//     Directory.Build.targets, read after the project, is not read.
//   - Properties come from <PropertyGroup>s and <Choose>/<When>/<Otherwise>,
//     later definitions overriding earlier ones; $(Name) references are
//     expanded, an undefined property being empty. Property functions,
//     item lists and metadata references are not evaluated: a value using
//     them is unknown, and is reported if a reference depends on it.
//   - The target frameworks are $(TargetFrameworks) (";"-separated), else
//     $(TargetFramework), else the legacy $(TargetFrameworkIdentifier) and
//     $(TargetFrameworkVersion) pair. Each framework is then evaluated again
//     with TargetFramework set, as MSBuild's inner builds are, so that
//     groups conditioned on it apply to their framework only.
//   - Conditions may compare strings with == and != (ignoring case, as
//     MSBuild does), combine them with and, or and parentheses, or be a
//     bare boolean; so a comparison of $(TargetFramework) with a framework
//     name, and the test for an empty property, are covered. Anything else (Exists(),
//     IsTargetFrameworkCompatible(), "!", property functions) is not
//     understood: the element it guards is ignored, with a warning.
//   - <PackageReference Include="…" Version="…"/> adds references (Version
//     may also be a child element; Include may list ids separated by ";");
//     Update changes the version of references already included, never adds;
//     Remove removes. A reference listed twice keeps the first (NU1504).
//     Other metadata (PrivateAssets, ExcludeAssets, …) is ignored.
//   - Central package management is on when $(ManagePackageVersionsCentrally)
//     is true: versions come from <PackageVersion> items, a reference may
//     carry VersionOverride (unless $(CentralPackageVersionOverrideEnabled)
//     is false), <GlobalPackageReference> items are added to every
//     framework. NuGet's errors NU1008 (Version on a reference), NU1010 (no
//     PackageVersion) and NU1013 (VersionOverride disabled) stop the read.
//     Transitive pinning ($(CentralPackageTransitivePinningEnabled)) is not
//     applied; a warning says so.
//   - A reference without version (without central management) gets every
//     version, so restore takes the lowest, as NuGet does with NU1604.
//
// # packages.config
//
// Each <package> gives an id, an exact version and optionally the target
// framework it was installed for. A packages.config restore installs
// exactly those packages, with no dependency resolution.
package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/restore/resolve"
)

// maxWalkUp bounds the directories searched above a project for
// Directory.Build.props and Directory.Packages.props.
const maxWalkUp = 64

// maxReferences bounds the package references of one project; real
// projects have tens.
const maxReferences = 10_000

// Error is a problem in the restore inputs that stops a restore.
type Error struct {
	// Code is NuGet's code for the problem ("NU1008"), or "".
	Code    string
	Path    string
	Message string
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("project: %s: %s: %s", e.Path, e.Code, e.Message)
	}
	return fmt.Sprintf("project: %s: %s", e.Path, e.Message)
}

// Project is the restore input of a PackageReference project.
type Project struct {
	Path string
	// Frameworks are the target frameworks, in the order the project
	// lists them.
	Frameworks []TargetFramework
	// CentralPackageManagement reports that versions came from
	// Directory.Packages.props.
	CentralPackageManagement bool
	// Files are the files read: the project and the props files found.
	Files []string
	// Warnings describe what was read but not understood or applied, and
	// NuGet's warnings about the references (NU1504, NU1604, NU1506).
	Warnings []string
}

// TargetFramework is one framework of a project and its references.
type TargetFramework struct {
	// Name is the framework as the project writes it ("net8.0").
	Name       string
	Framework  nuget.Framework
	References []PackageReference
}

// PackageReference is a direct reference of the project.
type PackageReference struct {
	ID    string
	Range nuget.Range
}

// Targets returns the project's frameworks as resolver input.
func (p *Project) Targets() []resolve.Target {
	out := make([]resolve.Target, 0, len(p.Frameworks))
	for _, f := range p.Frameworks {
		t := resolve.Target{Framework: f.Framework}
		for _, r := range f.References {
			t.Dependencies = append(t.Dependencies, resolve.Dependency{ID: r.ID, Range: r.Range})
		}
		out = append(out, t)
	}
	return out
}

// sourceFile is a parsed XML file.
type sourceFile struct {
	path string
	root *element
}

// fileReader reads a file; tests and fuzzing replace it.
type fileReader func(path string) ([]byte, error)

// ReadProject reads the PackageReference restore input of the project
// file at path. Problems with the project (unreadable XML, no target
// framework, an invalid version, NuGet's central management errors) are
// returned as *Error.
func ReadProject(path string) (*Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	return readProject(abs, readFile, findAbove)
}

// findAbove returns the path of the nearest file called name in dir or a
// directory above it, or "".
func findAbove(dir, name string) string {
	for i := 0; i < maxWalkUp; i++ {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

func readProject(path string, read fileReader, find func(dir, name string) string) (*Project, error) {
	fail := func(code, format string, args ...any) error {
		return &Error{Code: code, Path: path, Message: fmt.Sprintf(format, args...)}
	}
	var files []*sourceFile
	load := func(p string) error {
		data, err := read(p)
		if err != nil {
			return &Error{Path: p, Message: err.Error()}
		}
		root, err := parseXML(data)
		if err != nil {
			return &Error{Path: p, Message: "invalid XML: " + err.Error()}
		}
		if !strings.EqualFold(root.name, "Project") {
			return &Error{Path: p, Message: fmt.Sprintf("root element is <%s>, not <Project>", root.name)}
		}
		files = append(files, &sourceFile{path: p, root: root})
		return nil
	}
	dir := filepath.Dir(path)
	for _, name := range []string{"Directory.Build.props", "Directory.Packages.props"} {
		if p := find(dir, name); p != "" && p != path {
			if err := load(p); err != nil {
				return nil, err
			}
		}
	}
	if err := load(path); err != nil {
		return nil, err
	}
	proj := &Project{Path: path}
	for _, f := range files {
		proj.Files = append(proj.Files, f.path)
	}
	warnings := map[string]bool{}
	for _, f := range files {
		for _, imp := range imports(f.root.children) {
			warnings[fmt.Sprintf("%s: <Import Project=%q> is not followed", filepath.Base(f.path), imp)] = true
		}
	}

	// The outer evaluation decides the frameworks.
	outer := newEvaluator(path, nil)
	for _, f := range files {
		outer.evalProperties(f)
	}
	names, err := frameworkNames(outer)
	if err != nil {
		return nil, fail("", "%v", err)
	}
	for w := range outer.warnings {
		warnings[w] = true
	}
	for _, name := range names {
		ev := newEvaluator(path, map[string]string{"TargetFramework": name})
		for _, f := range files {
			ev.evalProperties(f)
		}
		fw, err := nuget.ParseFramework(name)
		if err != nil {
			return nil, fail("", "target framework %q: %v", name, err)
		}
		refs, cpm, err := references(ev, files, path, warnings)
		if err != nil {
			return nil, err
		}
		proj.CentralPackageManagement = proj.CentralPackageManagement || cpm
		proj.Frameworks = append(proj.Frameworks, TargetFramework{Name: name, Framework: fw, References: refs})
		for w := range ev.warnings {
			warnings[w] = true
		}
	}
	for w := range warnings {
		proj.Warnings = append(proj.Warnings, w)
	}
	sort.Strings(proj.Warnings)
	return proj, nil
}

// imports lists the projects <Import>ed, SDK imports excepted.
func imports(children []*element) []string {
	var out []string
	for _, e := range children {
		switch {
		case strings.EqualFold(e.name, "Import"):
			if _, sdk := e.attr("Sdk"); !sdk {
				p, _ := e.attr("Project")
				out = append(out, p)
			}
		case strings.EqualFold(e.name, "ImportGroup"), strings.EqualFold(e.name, "Choose"),
			strings.EqualFold(e.name, "When"), strings.EqualFold(e.name, "Otherwise"):
			out = append(out, imports(e.children)...)
		}
	}
	return out
}

// frameworkNames reads $(TargetFrameworks), $(TargetFramework) or the
// legacy identifier and version properties.
func frameworkNames(ev *evaluator) ([]string, error) {
	for _, prop := range []string{"TargetFrameworks", "TargetFramework"} {
		p := ev.get(prop)
		if !p.ok {
			return nil, fmt.Errorf("$(%s) uses syntax that is not evaluated", prop)
		}
		var names []string
		seen := map[string]bool{}
		for _, n := range strings.Split(p.v, ";") {
			n = strings.TrimSpace(n)
			if n != "" && !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			return names, nil
		}
	}
	if v := ev.get("TargetFrameworkVersion"); v.ok && strings.TrimSpace(v.v) != "" {
		id := ev.get("TargetFrameworkIdentifier").v
		if strings.TrimSpace(id) == "" {
			id = nuget.FrameworkNET
		}
		name := id + ",Version=" + strings.TrimSpace(v.v)
		if profile := strings.TrimSpace(ev.get("TargetFrameworkProfile").v); profile != "" {
			name += ",Profile=" + profile
		}
		fw, err := nuget.ParseFramework(name)
		if err != nil {
			return nil, err
		}
		return []string{fw.String()}, nil
	}
	return nil, errors.New("no target framework: neither TargetFramework nor TargetFrameworks is set")
}

// item is a PackageReference, PackageVersion or GlobalPackageReference.
type item struct {
	id                       string
	version, versionOverride string
	hasVersion, hasOverride  bool
	file                     string
}

// itemLists holds the items of one evaluation.
type itemLists struct {
	refs, versions, globals []*item
}

func (ev *evaluator) evalItems(f *sourceFile, lists *itemLists) {
	ev.thisFile = f.path
	ev.items(f.root.children, lists)
}

func (ev *evaluator) items(children []*element, lists *itemLists) {
	for _, e := range children {
		switch {
		case strings.EqualFold(e.name, "ItemGroup"):
			if !ev.condition(e) {
				continue
			}
			for _, it := range e.children {
				var list *[]*item
				switch {
				case strings.EqualFold(it.name, "PackageReference"):
					list = &lists.refs
				case strings.EqualFold(it.name, "PackageVersion"):
					list = &lists.versions
				case strings.EqualFold(it.name, "GlobalPackageReference"):
					list = &lists.globals
				default:
					continue
				}
				if ev.condition(it) {
					ev.applyItem(it, list)
				}
			}
		case strings.EqualFold(e.name, "Choose"):
			if branch := ev.choose(e); branch != nil {
				ev.items(branch, lists)
			}
		}
	}
}

// metadata reads an item's metadata from its attribute or child element.
func (ev *evaluator) metadata(it *element, name string) (value string, present, ok bool) {
	raw, present := it.attr(name)
	for _, c := range it.children {
		if strings.EqualFold(c.name, name) && ev.condition(c) {
			raw, present = c.value(), true
		}
	}
	if !present {
		return "", false, true
	}
	v, ok := ev.expand(strings.TrimSpace(raw))
	return v, true, ok
}

// applyItem applies one Include, Update or Remove element to list.
func (ev *evaluator) applyItem(it *element, list *[]*item) {
	version, hasVersion, okV := ev.metadata(it, "Version")
	override, hasOverride, okO := ev.metadata(it, "VersionOverride")
	if !okV || !okO {
		ev.warn("%s: the version of <%s> uses syntax that is not evaluated; the item is ignored", filepath.Base(ev.thisFile), it.name)
		return
	}
	ids := func(attr string) ([]string, bool) {
		raw, present := it.attr(attr)
		if !present {
			return nil, false
		}
		v, ok := ev.expand(raw)
		if !ok {
			ev.warn("%s: %s=%q on <%s> uses syntax that is not evaluated; the item is ignored", filepath.Base(ev.thisFile), attr, raw, it.name)
			return nil, false
		}
		var out []string
		for _, s := range strings.Split(v, ";") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, true
	}
	if include, ok := ids("Include"); ok {
		for _, id := range include {
			if len(*list) >= maxReferences {
				ev.warn("more than %d items; the rest are ignored", maxReferences)
				return
			}
			*list = append(*list, &item{id: id, version: version, hasVersion: hasVersion,
				versionOverride: override, hasOverride: hasOverride, file: ev.thisFile})
		}
		return
	}
	if update, ok := ids("Update"); ok {
		for _, id := range update {
			for _, x := range *list {
				if strings.EqualFold(x.id, id) {
					if hasVersion {
						x.version, x.hasVersion = version, true
					}
					if hasOverride {
						x.versionOverride, x.hasOverride = override, true
					}
				}
			}
		}
		return
	}
	if remove, ok := ids("Remove"); ok {
		kept := (*list)[:0]
		for _, x := range *list {
			drop := false
			for _, id := range remove {
				drop = drop || strings.EqualFold(x.id, id)
			}
			if !drop {
				kept = append(kept, x)
			}
		}
		*list = kept
	}
}

// references evaluates the items of one framework and turns them into
// package references, applying central package management.
func references(ev *evaluator, files []*sourceFile, path string, warnings map[string]bool) ([]PackageReference, bool, error) {
	var lists itemLists
	for _, f := range files {
		ev.evalItems(f, &lists)
	}
	cpm := isTrue(ev.get("ManagePackageVersionsCentrally"))
	tf := ev.get("TargetFramework").v
	parse := func(it *item, text, what string) (nuget.Range, error) {
		r, err := nuget.ParseRange(text)
		if err != nil {
			return nuget.Range{}, &Error{Path: it.file, Message: fmt.Sprintf("%s of %s is not a valid version range: %q", what, it.id, text)}
		}
		return r, nil
	}
	var out []PackageReference
	seen := map[string]bool{}
	add := func(it *item, r nuget.Range) error {
		if !nuget.ValidID(it.id) {
			return &Error{Path: it.file, Message: fmt.Sprintf("%q is not a valid package id", it.id)}
		}
		k := strings.ToLower(it.id)
		if seen[k] {
			warnings[fmt.Sprintf("NU1504: %s is referenced more than once; the first reference is used", it.id)] = true
			return nil
		}
		seen[k] = true
		out = append(out, PackageReference{ID: it.id, Range: r})
		return nil
	}
	if !cpm {
		for _, it := range lists.refs {
			var r nuget.Range
			if it.hasVersion && it.version != "" {
				var err error
				if r, err = parse(it, it.version, "Version"); err != nil {
					return nil, false, err
				}
			} else {
				warnings[fmt.Sprintf("NU1604: %s has no version; the lowest available version is used", it.id)] = true
			}
			if err := add(it, r); err != nil {
				return nil, false, err
			}
		}
		return out, false, nil
	}

	if isTrue(ev.get("CentralPackageTransitivePinningEnabled")) {
		warnings["CentralPackageTransitivePinningEnabled is not applied: transitive versions are resolved as without pinning"] = true
	}
	central := map[string]*item{}
	for _, v := range lists.versions {
		k := strings.ToLower(v.id)
		if central[k] != nil {
			warnings[fmt.Sprintf("NU1506: duplicate PackageVersion items for %s; the first is used", v.id)] = true
			continue
		}
		central[k] = v
	}
	overrideAllowed := !isFalse(ev.get("CentralPackageVersionOverrideEnabled"))
	var missing []string
	for _, it := range lists.refs {
		if it.hasVersion {
			return nil, true, &Error{Code: "NU1008", Path: it.file, Message: fmt.Sprintf(
				"projects that use central package version management should not define the version on the PackageReference items but on the PackageVersion items: %s", it.id)}
		}
		var text, what string
		switch {
		case it.hasOverride && !overrideAllowed:
			return nil, true, &Error{Code: "NU1013", Path: it.file, Message: fmt.Sprintf(
				"the PackageReference item %s has a VersionOverride but CentralPackageVersionOverrideEnabled is false", it.id)}
		case it.hasOverride:
			text, what = it.versionOverride, "VersionOverride"
		case central[strings.ToLower(it.id)] != nil:
			text, what = central[strings.ToLower(it.id)].version, "PackageVersion"
		default:
			missing = append(missing, it.id)
			continue
		}
		r, err := parse(it, text, what)
		if err != nil {
			return nil, true, err
		}
		if err := add(it, r); err != nil {
			return nil, true, err
		}
	}
	if len(missing) > 0 {
		return nil, true, &Error{Code: "NU1010", Path: path, Message: fmt.Sprintf(
			"the PackageReference items %s do not have corresponding PackageVersion items (target framework %s)", strings.Join(missing, ";"), tf)}
	}
	for _, g := range lists.globals {
		if seen[strings.ToLower(g.id)] {
			continue
		}
		if !g.hasVersion {
			return nil, true, &Error{Path: g.file, Message: fmt.Sprintf("GlobalPackageReference %s has no Version", g.id)}
		}
		r, err := parse(g, g.version, "Version")
		if err != nil {
			return nil, true, err
		}
		if err := add(g, r); err != nil {
			return nil, true, err
		}
	}
	return out, true, nil
}
