// Package resolve computes the packages a PackageReference restore installs
// for one target framework, the way NuGet resolves a dependency graph, over
// an abstract Source of versions and .nuspec dependencies. It does no I/O of
// its own: everything it learns comes through Source, which it calls
// concurrently (at most Resolver.Workers calls at a time) and never twice
// for the same question.
//
// # Rules
//
// Resolution follows the rules of NuGet's "Dependency resolution" page, as
// NuGet's restore implements them (NuGet.DependencyResolver's walker and
// its conflict analysis, read for behaviour, not copied):
//
//   - Lowest applicable version: a dependency takes the lowest version its
//     range allows; a floating range ("1.*", "1.0.0-*") takes the highest
//     version matching the float. Prerelease versions are considered only
//     when a bound of the range is a prerelease or the range floats over
//     prerelease labels (nuget.Range.FindBest).
//   - Dependency groups: each package contributes the dependencies of its
//     .nuspec group nearest to the framework (nuget.Nearest); none if no
//     group fits.
//   - Direct dependency wins, nearest wins: along any path from the
//     project, a dependency is ignored when an ancestor on that path, other
//     than its parent, declares the same id; the project's own references
//     therefore override every transitive one. When the ignored dependency
//     asked for more than the version finally chosen, NU1605 ("Detected
//     package downgrade") is reported.
//   - Cousins: when the remaining paths reach several versions of an id,
//     the highest version (the highest lower bound, in effect) is chosen and
//     the paths below the lower versions are dropped; this is settled from
//     the top of the graph down, an id only once no occurrence of it lies
//     below another unsettled id. Every kept dependency whose range the
//     chosen version falls outside of is reported as NU1107 ("Version
//     conflict detected").
//   - A dependency on a package that is its own ancestor is a cycle, NU1108.
//   - A dependency no version satisfies is reported as NU1101 (no source
//     has the id), NU1102 (no version in range; the nearest one is named) or
//     NU1103 (only prerelease versions are in a stable range).
//   - Warnings, as NuGet gives them: NU1603 (the lower bound does not exist
//     and a higher version was taken), NU1608 (a version above a package's
//     upper bound was chosen because a nearer reference asked for it),
//     NU1504 (a direct reference listed twice; the first is used).
//
// Issues carry NuGet's code and severity. NU1605 is a warning in NuGet, but
// SDK-style projects promote it to an error (WarningsAsErrors), so
// Graph.HasErrors(DefaultWarningsAsErrors...) is what a restore should test.
//
// # Listing
//
// NuGet's PackageReference restore does not look at whether a version is
// listed: it reads the feed's flat container, which lists unlisted versions
// too, and a range or float may resolve to an unlisted version (NuGet/Home
// issues 10931 and 14215; the "Package versioning" page says listing does
// not affect floating resolution). This package does the same: Source
// returns all versions and resolution does not distinguish them.
//
// # Differences from NuGet
//
//   - Downgrades are detected on the final graph: a kept package whose
//     dependency got a version below its range's minimum yields NU1605, as
//     NuGet's current resolver does. NuGet's older walker stays silent when
//     the declaration that eclipsed the dependency itself lost to a cousin.
//   - When cousin disputes hold each other up (each lies below the other),
//     NuGet's walker gives up after 1000 passes; this package settles the
//     nearest one whose highest version is reachable without going through
//     a disputed id.
//   - Central package transitive pinning, PrivateAssets, runtime
//     identifiers (runtime.json), project-to-project references, package
//     source mapping and lock files are not modelled. The project itself is
//     not a package, so a package named like the project is not a cycle.
package resolve

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
)

// DefaultWorkers is how many Source calls run at once when Resolver.Workers
// is zero: enough to keep a feed's latency hidden for graphs of hundreds of
// packages, few enough not to look like a flood to the feed.
const DefaultWorkers = 16

// DefaultWarningsAsErrors lists the warnings SDK-style projects treat as
// errors by default (Microsoft.NET.Sdk sets WarningsAsErrors to NU1605).
var DefaultWarningsAsErrors = []string{"NU1605"}

// Severity is how bad an Issue is. The zero Severity is an error.
type Severity int

const (
	// SeverityError fails the restore.
	SeverityError Severity = iota
	// SeverityWarning does not, unless the caller promotes its code.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Issue is a problem found in the graph, with NuGet's code for it.
type Issue struct {
	Code     string // "NU1107"
	Severity Severity
	// ID is the package the issue is about, as first written.
	ID string
	// Message says what happened, in NuGet's terms; a message about paths
	// has one path per further line ("  project -> A 1.0.0 -> B (>= 2.0.0)").
	Message string
}

// Package is a package version to install.
type Package struct {
	// ID is spelled as in the first dependency that reached it.
	ID      string
	Version nuget.Version
	// Dependencies are the package's dependencies for the graph's
	// framework, as its .nuspec declares them.
	Dependencies []Dependency
}

// Graph is the result of resolving one framework.
type Graph struct {
	Framework nuget.Framework
	// Packages are the chosen versions, one per id, sorted by id ignoring
	// case. They include packages reached by a path with a conflict; an
	// unresolved dependency has no entry.
	Packages []Package
	// Issues are sorted by code, then id.
	Issues []Issue
}

// HasErrors reports whether the graph has an issue of SeverityError, or a
// warning whose code is in warningsAsErrors.
func (g *Graph) HasErrors(warningsAsErrors ...string) bool {
	for _, is := range g.Issues {
		if is.Severity == SeverityError {
			return true
		}
		for _, c := range warningsAsErrors {
			if strings.EqualFold(c, is.Code) {
				return true
			}
		}
	}
	return false
}

// Target is one framework to resolve and the project's direct
// dependencies for it.
type Target struct {
	Framework    nuget.Framework
	Dependencies []Dependency
}

// Result is the outcome of resolving several frameworks.
type Result struct {
	// Graphs are in the order of the targets.
	Graphs []*Graph
	// Packages is the union of the graphs' packages: each (id, version)
	// once, sorted by id ignoring case, then version. This is what a
	// restore downloads.
	Packages []Package
}

// HasErrors reports whether any graph HasErrors.
func (r *Result) HasErrors(warningsAsErrors ...string) bool {
	for _, g := range r.Graphs {
		if g.HasErrors(warningsAsErrors...) {
			return true
		}
	}
	return false
}

// Resolver resolves dependency graphs from a Source. The zero value is not
// usable: Source is required. A Resolver holds no state between calls.
type Resolver struct {
	Source Source
	// Workers bounds concurrent Source calls; 0 means DefaultWorkers.
	Workers int
	// ProjectName names the root of the paths in messages; "" means
	// "project".
	ProjectName string
}

// Resolve resolves the graph of direct for one framework with default
// settings. See Resolver.Resolve.
func Resolve(ctx context.Context, src Source, framework nuget.Framework, direct []Dependency) (*Graph, error) {
	return (&Resolver{Source: src}).Resolve(ctx, framework, direct)
}

// ResolveAll resolves several frameworks with default settings. See
// Resolver.ResolveAll.
func ResolveAll(ctx context.Context, src Source, targets []Target) (*Result, error) {
	return (&Resolver{Source: src}).ResolveAll(ctx, targets)
}

// Resolve resolves the dependency graph of a project whose direct
// dependencies for framework are direct. Problems of the graph (NU codes)
// are Issues of the returned Graph; the error is for a Source that failed,
// a cancelled ctx, or a graph beyond the resolver's bounds
// (ErrGraphTooLarge).
func (r *Resolver) Resolve(ctx context.Context, framework nuget.Framework, direct []Dependency) (*Graph, error) {
	res, err := r.ResolveAll(ctx, []Target{{Framework: framework, Dependencies: direct}})
	if err != nil {
		return nil, err
	}
	return res.Graphs[0], nil
}

// ResolveAll resolves each target, sharing what it learns from the Source
// between them, and returns the graphs and the union of their packages.
func (r *Resolver) ResolveAll(ctx context.Context, targets []Target) (*Result, error) {
	if r.Source == nil {
		return nil, errors.New("resolve: no source")
	}
	workers := r.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	f := newFetcher(r.Source, workers)
	out := &Result{}
	seen := map[string]bool{}
	for _, t := range targets {
		g, err := r.resolveOne(ctx, f, t)
		if err != nil {
			return nil, err
		}
		out.Graphs = append(out.Graphs, g)
		for _, p := range g.Packages {
			k := idKey(p.ID) + "/" + p.Version.String()
			if !seen[k] {
				seen[k] = true
				out.Packages = append(out.Packages, p)
			}
		}
	}
	sort.SliceStable(out.Packages, func(i, j int) bool {
		a, b := idKey(out.Packages[i].ID), idKey(out.Packages[j].ID)
		if a != b {
			return a < b
		}
		return nuget.Compare(out.Packages[i].Version, out.Packages[j].Version) < 0
	})
	return out, nil
}

func (r *Resolver) resolveOne(ctx context.Context, f *fetcher, t Target) (*Graph, error) {
	var direct []Dependency
	var issues []Issue
	dup := map[string]bool{}
	for _, d := range t.Dependencies {
		k := idKey(d.ID)
		if strings.TrimSpace(k) == "" {
			continue
		}
		if dup[k] {
			issues = append(issues, Issue{Code: "NU1504", Severity: SeverityWarning, ID: d.ID,
				Message: "Duplicate reference to " + d.ID + " found; the first one is used."})
			continue
		}
		dup[k] = true
		direct = append(direct, d)
	}
	g, err := explore(ctx, f, t.Framework, direct)
	if err != nil {
		return nil, err
	}
	w := &walker{g: g, direct: direct, rejected: make([]bool, len(g.nodes))}
	res, err := w.settle()
	if err != nil {
		return nil, err
	}
	name := r.ProjectName
	if name == "" {
		name = "project"
	}
	rep := &reporter{g: g, res: res, direct: direct, project: name}
	graph := &Graph{Framework: t.Framework, Packages: rep.packages(), Issues: append(issues, rep.issues()...)}
	sort.SliceStable(graph.Issues, func(i, j int) bool {
		a, b := graph.Issues[i], graph.Issues[j]
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return idKey(a.ID) < idKey(b.ID)
	})
	return graph, nil
}
