// Package restore installs resolved packages from V3 feeds into NuGet's
// global packages folder, verifying every package's signatures before a
// single byte of it is extracted. It joins the pieces: a resolve.Source over
// several feeds (package client), the resolver (package resolve) and the
// folder (package gpf). Reading projects (package project) and the trust
// policy belong to the caller, which passes a verification function.
//
// A tampered or untrusted package fails with the verification's error (its
// NU code) and leaves nothing of itself on disk; packages already in the
// folder are not downloaded again.
package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/restore/gpf"
	"github.com/signet-nuget/signet/internal/restore/resolve"
	"github.com/signet-nuget/signet/nupkg"
)

// DefaultConcurrency bounds the packages downloaded and installed at once.
const DefaultConcurrency = 8

// Feeds is a resolve.Source over several V3 feeds, in the order NuGet
// reads them: a package's versions are the union of every feed's; a
// version's manifest and package come from the first feed that has it.
type Feeds struct {
	Clients []*client.Client

	mu    sync.Mutex
	where map[string]*client.Client // "id\x00version" (lower case) -> first feed holding it
}

func key(id string, v nuget.Version) string {
	return strings.ToLower(id) + "\x00" + strings.ToLower(v.String())
}

// Versions implements resolve.Source: every feed is asked, concurrently.
func (f *Feeds) Versions(ctx context.Context, id string) ([]nuget.Version, error) {
	type answer struct {
		vs  []nuget.Version
		err error
	}
	answers := make([]answer, len(f.Clients))
	var wg sync.WaitGroup
	for i, c := range f.Clients {
		wg.Go(func() {
			vs, err := c.Versions(ctx, id)
			answers[i] = answer{vs, err}
		})
	}
	wg.Wait()
	var out []nuget.Version
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.where == nil {
		f.where = map[string]*client.Client{}
	}
	for i, a := range answers {
		if a.err != nil {
			return nil, fmt.Errorf("restore: versions of %s from %s: %w", id, f.Clients[i].Source(), a.err)
		}
		for _, v := range a.vs {
			k := key(id, v)
			if _, ok := f.where[k]; !ok {
				f.where[k] = f.Clients[i]
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// feedOf returns the first feed holding a version.
func (f *Feeds) feedOf(id string, v nuget.Version) (*client.Client, error) {
	f.mu.Lock()
	c := f.where[key(id, v)]
	f.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("restore: no source holds %s %s", id, v)
	}
	return c, nil
}

// Dependencies implements resolve.Source from the version's .nuspec.
func (f *Feeds) Dependencies(ctx context.Context, id string, v nuget.Version) ([]resolve.DependencyGroup, error) {
	c, err := f.feedOf(id, v)
	if err != nil {
		return nil, err
	}
	ns, err := c.Nuspec(ctx, id, v.String())
	if err != nil {
		return nil, fmt.Errorf("restore: manifest of %s %s: %w", id, v, err)
	}
	return DependencyGroups(ns)
}

// DependencyGroups converts a manifest's dependency groups for the
// resolver. A version range that does not parse is an error naming it.
func DependencyGroups(ns *nupkg.Nuspec) ([]resolve.DependencyGroup, error) {
	var out []resolve.DependencyGroup
	for _, g := range ns.DependencyGroups {
		rg := resolve.DependencyGroup{TargetFramework: g.TargetFramework}
		for _, d := range g.Dependencies {
			var r nuget.Range
			if strings.TrimSpace(d.Version) != "" {
				var err error
				if r, err = nuget.ParseRange(d.Version); err != nil {
					return nil, fmt.Errorf("restore: %s %s: dependency %s: %w", ns.ID, ns.Version, d.ID, err)
				}
			}
			rg.Dependencies = append(rg.Dependencies, resolve.Dependency{ID: d.ID, Range: r})
		}
		out = append(out, rg)
	}
	return out, nil
}

// Step is what happened to one package, for progress displays.
type Step int

// The steps of a package.
const (
	StepCached     Step = iota // in the folder already: nothing downloaded
	StepDownloaded             // downloaded, about to be verified
	StepInstalled              // verified and extracted
	StepFailed                 // download, verification or extraction failed
)

// Options configure Install.
type Options struct {
	// Root is the global packages folder.
	Root string
	// Verify checks a downloaded package before anything is extracted;
	// required. Its error (with an NU code) fails that package.
	Verify gpf.VerifyFunc
	// Concurrency bounds packages handled at once (DefaultConcurrency if 0).
	Concurrency int
	// TempDir holds downloads (os.TempDir() if empty).
	TempDir string
	// Progress, when set, is called after each step of each package, from
	// several goroutines.
	Progress func(p resolve.Package, s Step, err error)
}

// Outcome is what Install did with one package.
type Outcome struct {
	ID, Version string
	// Source is the feed it came from ("" when it was in the folder).
	Source string
	// Installed is false when it was in the folder already.
	Installed bool
	Dir       string
	Err       error
}

// Install puts every package into the global packages folder, downloading
// those that are not there yet, concurrently, and verifying each before
// extracting it. It returns one Outcome per package, in the order given,
// and an error joining the packages that failed.
func (f *Feeds) Install(ctx context.Context, o Options, pkgs []resolve.Package) ([]Outcome, error) {
	if o.Verify == nil {
		return nil, errors.New("restore: no verification function")
	}
	n := o.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	out := make([]Outcome, len(pkgs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, p := range pkgs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Outcome{ID: p.ID, Version: p.Version.String(), Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			out[i] = f.installOne(ctx, o, p)
		})
	}
	wg.Wait()
	var errs []error
	for _, r := range out {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return out, errors.Join(errs...)
}

func (f *Feeds) installOne(ctx context.Context, o Options, p resolve.Package) Outcome {
	v := p.Version.String()
	r := Outcome{ID: p.ID, Version: v}
	report := func(s Step, err error) {
		if o.Progress != nil {
			o.Progress(p, s, err)
		}
	}
	if gpf.Exists(o.Root, p.ID, v) {
		dir, _ := gpf.VersionDir(o.Root, p.ID, v)
		r.Dir = dir
		report(StepCached, nil)
		return r
	}
	fail := func(err error) Outcome {
		r.Err = fmt.Errorf("%s %s: %w", p.ID, v, err)
		report(StepFailed, r.Err)
		return r
	}
	c, err := f.feedOf(p.ID, p.Version)
	if err != nil {
		return fail(err)
	}
	r.Source = c.Source()
	path, err := c.DownloadNupkgFile(ctx, p.ID, v, o.TempDir)
	if err != nil {
		return fail(err)
	}
	defer os.Remove(path)
	report(StepDownloaded, nil)
	res, err := gpf.InstallAs(ctx, o.Root, path, p.ID, v, o.Verify, c.Source())
	if err != nil {
		return fail(err)
	}
	r.Installed, r.Dir = res.Installed, res.Dir
	report(StepInstalled, nil)
	return r
}

// Sorted returns outcomes sorted by id and version, for reports.
func Sorted(out []Outcome) []Outcome {
	s := slices.Clone(out)
	slices.SortFunc(s, func(a, b Outcome) int {
		if c := strings.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return s
}
