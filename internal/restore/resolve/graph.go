package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
)

// Bounds on one resolution. They are far above real graphs (the largest
// .NET applications restore a few thousand packages) and only stop a hostile
// or broken feed from making the resolver run without end.
const (
	// maxPackages bounds the distinct (id, version) pairs explored.
	maxPackages = 50_000
	// maxEdges bounds the distinct (id, range) dependencies explored.
	maxEdges = 200_000
	// maxExpansions bounds the nodes one walk of the graph expands: each is a
	// package seen under a distinct set of nearer declarations.
	maxExpansions = 2_000_000
	// maxRounds bounds the walks spent settling cousin conflicts; each
	// round rejects at least one (id, version) pair.
	maxRounds = 10_000
)

// ErrGraphTooLarge is returned when a dependency graph exceeds the
// resolver's bounds.
var ErrGraphTooLarge = errors.New("resolve: dependency graph too large")

// pkgNode is one package version the graph may contain, with the
// dependencies of its group nearest to the framework.
type pkgNode struct {
	key      string // lower-case id
	version  nuget.Version
	deps     []Dependency
	id       int    // index of key in staticGraph.ids
	declared bitset // ids of deps
	closure  bitset // ids of every dependency reachable from here
}

// resolution is what an (id, range) dependency resolves to.
type resolution struct {
	ok   bool
	node int // index in staticGraph.nodes when ok
	// versions are all versions of the id, kept for the message when !ok.
	versions []nuget.Version
}

// staticGraph holds every package version any path could reach, each
// dependency resolved on its own (lowest applicable or best floating
// version), before nearest-wins and cousin rules prune it.
type staticGraph struct {
	nodes     []*pkgNode
	nodeIndex map[string]int
	res       map[string]*resolution // by edgeKey
	ids       map[string]int         // lower-case id → bit index
	width     int                    // number of ids
}

func edgeKey(d Dependency) string { return idKey(d.ID) + "|" + d.Range.String() }

// explore fetches, concurrently through f, every version each dependency
// reachable from roots resolves to, and the dependencies of those versions.
// It explores ahead of the nearest-wins rule, so it may fetch the .nuspec
// of a version that a nearer declaration later eclipses; dependencies on
// the project's own references, eclipsed everywhere, are skipped.
func explore(ctx context.Context, f *fetcher, fw nuget.Framework, roots []Dependency) (*staticGraph, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &staticGraph{nodeIndex: map[string]int{}, res: map[string]*resolution{}}

	type answer struct {
		key    string
		dep    Dependency
		vs     []nuget.Version
		best   nuget.Version
		ok     bool
		groups []DependencyGroup
		err    error
	}
	answers := make(chan answer)
	inflight := 0
	// At most a few goroutines per worker wait for the fetcher; the other
	// dependencies wait in pending, so a huge graph costs memory for its
	// data, not for goroutine stacks.
	maxInflight := 4 * cap(f.sem)
	var pending []Dependency
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	start := func(d Dependency) {
		k := edgeKey(d)
		if _, seen := g.res[k]; seen || firstErr != nil {
			return
		}
		if len(g.res) >= maxEdges {
			fail(fmt.Errorf("%w: more than %d distinct dependencies", ErrGraphTooLarge, maxEdges))
			return
		}
		g.res[k] = &resolution{}
		pending = append(pending, d)
	}
	launch := func() {
		for len(pending) > 0 && inflight < maxInflight && firstErr == nil {
			d := pending[0]
			pending = pending[1:]
			inflight++
			go func() {
				a := answer{key: edgeKey(d), dep: d}
				a.vs, a.err = f.getVersions(ctx, d.ID)
				if a.err == nil {
					if a.best, a.ok = d.Range.FindBest(a.vs); a.ok {
						a.groups, a.err = f.getDependencies(ctx, d.ID, a.best)
					}
				}
				answers <- a
			}()
		}
	}
	// A project's own references eclipse every other dependency on the
	// same ids, so those are never explored.
	direct := map[string]bool{}
	for _, d := range roots {
		direct[idKey(d.ID)] = true
		start(d)
	}
	// Every goroutine started sends exactly one answer, and the loop
	// receives until none is left, so none outlives explore.
	for launch(); inflight > 0; launch() {
		a := <-answers
		inflight--
		if firstErr != nil {
			continue
		}
		if a.err != nil {
			fail(a.err)
			continue
		}
		r := g.res[a.key]
		if !a.ok {
			r.versions = a.vs
			continue
		}
		r.ok = true
		nk := idKey(a.dep.ID) + "/" + a.best.String()
		idx, exists := g.nodeIndex[nk]
		if !exists {
			if len(g.nodes) >= maxPackages {
				fail(fmt.Errorf("%w: more than %d package versions", ErrGraphTooLarge, maxPackages))
				continue
			}
			idx = len(g.nodes)
			n := &pkgNode{key: idKey(a.dep.ID), version: a.best}
			for _, d := range nearestGroup(fw, a.groups) {
				if strings.TrimSpace(d.ID) != "" {
					n.deps = append(n.deps, d)
				}
			}
			g.nodes = append(g.nodes, n)
			g.nodeIndex[nk] = idx
			for _, d := range n.deps {
				if !direct[idKey(d.ID)] {
					start(d)
				}
			}
		}
		r.node = idx
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.index(roots)
	return g, nil
}

// index numbers the ids and computes, for every node, the ids it declares
// and the ids reachable below it.
func (g *staticGraph) index(roots []Dependency) {
	keys := map[string]bool{}
	for _, d := range roots {
		keys[idKey(d.ID)] = true
	}
	for _, n := range g.nodes {
		keys[n.key] = true
		for _, d := range n.deps {
			keys[idKey(d.ID)] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	g.ids = make(map[string]int, len(sorted))
	for i, k := range sorted {
		g.ids[k] = i
	}
	g.width = len(sorted)
	for _, n := range g.nodes {
		n.id = g.ids[n.key]
		n.declared = newBitset(g.width)
		for _, d := range n.deps {
			n.declared.set(g.ids[idKey(d.ID)])
		}
		n.closure = n.declared.clone()
	}
	// Propagate closures to a fixed point; each pass adds at least one id
	// to some node, so it ends, and real graphs settle in a few passes.
	for changed := true; changed; {
		changed = false
		for _, n := range g.nodes {
			for _, d := range n.deps {
				r := g.res[edgeKey(d)]
				if r == nil || !r.ok {
					continue
				}
				if n.closure.orChanged(g.nodes[r.node].closure) {
					changed = true
				}
			}
		}
	}
}

// bitset is a set of small integers (id indices).
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) clear(i int)    { b[i/64] &^= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) clone() bitset  { return append(bitset(nil), b...) }

// orChanged adds c to b and reports whether b grew.
func (b bitset) orChanged(c bitset) bool {
	changed := false
	for i := range b {
		if v := b[i] | c[i]; v != b[i] {
			b[i], changed = v, true
		}
	}
	return changed
}

// appendMasked appends the words of b&mask to dst, in hexadecimal.
func (b bitset) appendMasked(dst []byte, mask bitset) []byte {
	const hex = "0123456789abcdef"
	for i := range b {
		w := b[i] & mask[i]
		for s := 60; s >= 0; s -= 4 {
			dst = append(dst, hex[(w>>s)&0xf])
		}
	}
	return dst
}
