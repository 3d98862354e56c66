package resolve

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
)

// memSource is an in-memory Source. Packages are added with a compact
// notation: add("A", "1.0.0", "B [1.0,2.0)", "C") gives A 1.0.0 one group
// for every framework depending on B in [1.0, 2.0) and on any C.
type memSource struct {
	mu       sync.Mutex
	pkgs     map[string]map[string]memPackage // lower id → version → package
	versions map[string]int                   // calls per lower id
	deps     map[string]int                   // calls per lower id/version
	delay    time.Duration
	inflight int
	peak     int
	fail     string // a lower id whose Versions call fails
}

type memPackage struct {
	version nuget.Version
	groups  []DependencyGroup
}

func newSource() *memSource {
	return &memSource{pkgs: map[string]map[string]memPackage{}, versions: map[string]int{}, deps: map[string]int{}}
}

func parseDeps(t testing.TB, specs []string) []Dependency {
	t.Helper()
	var out []Dependency
	for _, s := range specs {
		id, rng, _ := strings.Cut(strings.TrimSpace(s), " ")
		d := Dependency{ID: id}
		if rng = strings.TrimSpace(rng); rng != "" {
			r, err := nuget.ParseRange(rng)
			if err != nil {
				t.Fatalf("bad test range %q: %v", s, err)
			}
			d.Range = r
		}
		out = append(out, d)
	}
	return out
}

func (s *memSource) add(t testing.TB, id, version string, deps ...string) {
	t.Helper()
	s.addGroups(t, id, version, map[string][]string{"": deps})
}

// addGroups adds a package whose dependencies are in framework groups.
func (s *memSource) addGroups(t testing.TB, id, version string, groups map[string][]string) {
	t.Helper()
	v, err := nuget.ParseVersion(version)
	if err != nil {
		t.Fatalf("bad test version %q: %v", version, err)
	}
	p := memPackage{version: v}
	for fw, deps := range groups {
		p.groups = append(p.groups, DependencyGroup{TargetFramework: fw, Dependencies: parseDeps(t, deps)})
	}
	k := strings.ToLower(id)
	if s.pkgs[k] == nil {
		s.pkgs[k] = map[string]memPackage{}
	}
	s.pkgs[k][v.String()] = p
}

func (s *memSource) enter() {
	s.mu.Lock()
	s.inflight++
	if s.inflight > s.peak {
		s.peak = s.inflight
	}
	s.mu.Unlock()
}

func (s *memSource) leave() {
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
}

func (s *memSource) wait(ctx context.Context) error {
	if s.delay == 0 {
		return ctx.Err()
	}
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *memSource) Versions(ctx context.Context, id string) ([]nuget.Version, error) {
	s.enter()
	defer s.leave()
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	k := strings.ToLower(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[k]++
	if k == s.fail {
		return nil, errFeedDown
	}
	var out []nuget.Version
	for _, p := range s.pkgs[k] {
		out = append(out, p.version)
	}
	return out, nil
}

func (s *memSource) Dependencies(ctx context.Context, id string, v nuget.Version) ([]DependencyGroup, error) {
	s.enter()
	defer s.leave()
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	k := strings.ToLower(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deps[k+"/"+v.String()]++
	p, ok := s.pkgs[k][v.String()]
	if !ok {
		return nil, errNoSuchVersion
	}
	return p.groups, nil
}

type testError string

func (e testError) Error() string { return string(e) }

const (
	errFeedDown      testError = "feed down"
	errNoSuchVersion testError = "no such version"
)
