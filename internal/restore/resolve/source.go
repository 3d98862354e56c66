package resolve

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/signet-nuget/signet/internal/nuget"
)

// Source is where the resolver learns which versions of a package exist and
// what each version depends on. Implementations are typically a V3 feed
// client (the flat container's version list and the .nuspec) or a union of
// several feeds; tests use an in-memory map.
//
// Contract:
//   - Versions returns every version of id the sources hold, listed or
//     unlisted (see the package documentation for why), in any order,
//     possibly with duplicates. An id no source knows is not an error: it
//     returns an empty slice and a nil error. An error means the sources
//     could not be asked (network, server failure) and aborts resolution.
//   - Dependencies returns the dependency groups of the .nuspec of id at
//     version v, v being one of the values Versions returned. A .nuspec with
//     a flat <dependencies> list and no groups is one group with an empty
//     TargetFramework. A package without dependencies returns nil.
//   - Both may be called concurrently, from several goroutines, and must
//     honour ctx. Ids are passed as written in the project or .nuspec, so
//     implementations compare them ignoring case.
//
// Each (id) and (id, version) is asked at most once per Resolve or
// ResolveAll call.
type Source interface {
	Versions(ctx context.Context, id string) ([]nuget.Version, error)
	Dependencies(ctx context.Context, id string, v nuget.Version) ([]DependencyGroup, error)
}

// Dependency is one edge of the graph: a package id and the versions the
// dependent accepts. The zero Range accepts every version.
type Dependency struct {
	ID    string
	Range nuget.Range
}

// DependencyGroup is a <group> of a .nuspec's <dependencies>.
type DependencyGroup struct {
	// TargetFramework is the group's targetFramework attribute as written
	// ("net8.0", ".NETStandard2.0"); "" for a group without one, which fits
	// every project. A group whose framework nuget.ParseFramework refuses
	// is never chosen.
	TargetFramework string
	Dependencies    []Dependency
}

// nearestGroup returns the dependencies of the group NuGet would pick for
// fw, or nil when no group fits.
func nearestGroup(fw nuget.Framework, groups []DependencyGroup) []Dependency {
	frameworks := make([]nuget.Framework, 0, len(groups))
	index := make([]int, 0, len(groups))
	for i, g := range groups {
		var f nuget.Framework
		if strings.TrimSpace(g.TargetFramework) != "" {
			var err error
			if f, err = nuget.ParseFramework(g.TargetFramework); err != nil {
				continue
			}
		}
		frameworks = append(frameworks, f)
		index = append(index, i)
	}
	best, ok := nuget.Nearest(fw, frameworks)
	if !ok {
		return nil
	}
	for k, f := range frameworks {
		if f.Equal(best) {
			return groups[index[k]].Dependencies
		}
	}
	return nil
}

// fetcher asks the Source, at most workers calls at a time, and remembers
// every answer for the life of one resolution, so that concurrent and
// repeated requests for the same id or version share one call.
type fetcher struct {
	src      Source
	sem      chan struct{}
	versions memo[[]nuget.Version]
	deps     memo[[]DependencyGroup]
}

func newFetcher(src Source, workers int) *fetcher {
	return &fetcher{src: src, sem: make(chan struct{}, workers)}
}

func (f *fetcher) acquire(ctx context.Context) error {
	select {
	case f.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fetcher) release() { <-f.sem }

func (f *fetcher) getVersions(ctx context.Context, id string) ([]nuget.Version, error) {
	return f.versions.get(ctx, idKey(id), func() ([]nuget.Version, error) {
		if err := f.acquire(ctx); err != nil {
			return nil, err
		}
		defer f.release()
		vs, err := f.src.Versions(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("resolve: versions of %q: %w", id, err)
		}
		return vs, nil
	})
}

func (f *fetcher) getDependencies(ctx context.Context, id string, v nuget.Version) ([]DependencyGroup, error) {
	return f.deps.get(ctx, idKey(id)+"/"+v.String(), func() ([]DependencyGroup, error) {
		if err := f.acquire(ctx); err != nil {
			return nil, err
		}
		defer f.release()
		gs, err := f.src.Dependencies(ctx, id, v)
		if err != nil {
			return nil, fmt.Errorf("resolve: dependencies of %s %s: %w", id, v, err)
		}
		return gs, nil
	})
}

// memo runs a function once per key; callers arriving while it runs wait
// for its result (or for their context).
type memo[T any] struct {
	mu sync.Mutex
	m  map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (m *memo[T]) get(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = make(map[string]*memoEntry[T])
	}
	e, ok := m.m[key]
	if !ok {
		e = &memoEntry[T]{done: make(chan struct{})}
		m.m[key] = e
		m.mu.Unlock()
		e.val, e.err = fn()
		close(e.done)
		return e.val, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// idKey is the case-insensitive identity of a package id. NuGet compares ids
// with ordinal ignore-case rules; lower-casing is what its global packages
// folder does too.
func idKey(id string) string { return strings.ToLower(id) }
