package resolve

import (
	"errors"
	"fmt"
	"sort"

	"github.com/signet-nuget/signet/internal/nuget"
)

// maxRestores bounds how often settle may take back a rejection; it only
// happens after decide broke a deadlock between disputes, which real graphs
// do not produce.
const maxRestores = 100

// The dependency tree NuGet walks repeats a package under every path that
// reaches it. Here the tree is folded: an expansion is a package seen with a
// given set of exclusions (ids a nearer ancestor declares, ids of ancestors)
// restricted to the ids reachable below it. Two occurrences with the same
// expansion have identical subtrees, so the folded tree (a DAG) is built
// once, and each settling round is a traversal of it.

// childKind says what became of a dependency in an expansion.
type childKind uint8

const (
	childOK         childKind = iota // resolved, expanded below
	childCycle                       // its id is an ancestor's: NU1108
	childUnresolved                  // no version fits: NU1101/NU1102/NU1103
)

// child is a dependency of an expansion that nearest-wins did not remove.
type child struct {
	dep  Dependency
	kind childKind
	pkg  int // resolved package node, for childOK
	exp  int // expansion of that package, for childOK
}

// expansion is a package occurrence class; expansion 0 is the project.
type expansion struct {
	node     int // package node, -1 for the project
	children []child
}

// inst is one occurrence of a package along one path, kept for messages.
// The project has node -1.
type inst struct {
	node   int
	parent *inst
	dep    Dependency // the edge from parent
}

// edgeRec is a dependency met during the final traversal.
type edgeRec struct {
	parent *inst
	dep    Dependency
	node   int // resolved package node, or -1
}

// trackInfo is a package version reached and not rejected.
type trackInfo struct {
	first *inst // reached first, along a shortest path (final traversal only)
	// free is set when some occurrence has no disputed ancestor.
	free bool
}

// walkResult is what one traversal saw.
type walkResult struct {
	tracked  []*trackInfo     // by package node; nil when not reached
	byID     map[string][]int // lower-case id → tracked package nodes
	minDepth []int            // by id index: depth of the nearest occurrence
	// ambiguous is set, by id index, for ids with an occurrence below a
	// disputed id.
	ambiguous []bool
	// Filled by the final traversal only.
	cycles     []edgeRec
	unresolved []edgeRec
	rejected   []edgeRec // edges to rejected versions
	edges      []edgeRec // edges to kept versions
}

// walker settles one framework's graph.
type walker struct {
	g        *staticGraph
	direct   []Dependency
	exps     []*expansion
	rejected []bool // by package node
}

// build folds the tree breadth-first from the project, applying the
// nearest-wins and cycle rules along each path: a dependency is dropped when
// an ancestor above its parent declares the same id, and is a cycle when its
// id is an ancestor's (NuGet checks the ancestors nearest first, an
// ancestor's own id before its declarations).
func (w *walker) build() error {
	g := w.g
	empty := newBitset(g.width)
	type exclusions struct{ eclipse, cycle bitset }
	w.exps = []*expansion{{node: -1}}
	ctx := []exclusions{{empty, empty}}
	index := map[string]int{}
	var key []byte
	for i := 0; i < len(w.exps); i++ {
		e := w.exps[i]
		deps := w.direct
		var self *pkgNode
		if e.node >= 0 {
			self = g.nodes[e.node]
			deps = self.deps
		}
		eclipse, cycle := ctx[i].eclipse, ctx[i].cycle
		nextEclipse, nextCycle := w.childContext(eclipse, cycle, self)
		for _, d := range deps {
			k := idKey(d.ID)
			idx := g.ids[k]
			switch {
			case self != nil && (k == self.key || cycle.has(idx)):
				e.children = append(e.children, child{dep: d, kind: childCycle})
				continue
			case eclipse.has(idx):
				continue // a nearer declaration of the same id wins
			}
			r := g.res[edgeKey(d)]
			if r == nil || !r.ok {
				e.children = append(e.children, child{dep: d, kind: childUnresolved})
				continue
			}
			c := g.nodes[r.node]
			key = fmt.Appendf(key[:0], "%d/", r.node)
			key = nextEclipse.appendMasked(key, c.closure)
			key = append(key, '/')
			key = nextCycle.appendMasked(key, c.closure)
			x, ok := index[string(key)]
			if !ok {
				if len(w.exps) >= maxExpansions {
					return fmt.Errorf("%w: more than %d expansions", ErrGraphTooLarge, maxExpansions)
				}
				x = len(w.exps)
				index[string(key)] = x
				w.exps = append(w.exps, &expansion{node: r.node})
				ctx = append(ctx, exclusions{nextEclipse, nextCycle})
			}
			e.children = append(e.children, child{dep: d, kind: childOK, pkg: r.node, exp: x})
		}
	}
	return nil
}

// childContext returns the exclusions for the children of the children of
// an occurrence of self: self's id becomes a cycle, the ids self declares
// are eclipsed for everything below (the declaration on the path itself
// only matters to a package depending on itself, a cycle anyway), the rest
// is inherited. Below the project, the project's references are eclipsed.
func (w *walker) childContext(eclipse, cycle bitset, self *pkgNode) (bitset, bitset) {
	if self == nil {
		e := newBitset(w.g.width)
		for _, d := range w.direct {
			e.set(w.g.ids[idKey(d.ID)])
		}
		return e, cycle
	}
	e, c := eclipse.clone(), cycle.clone()
	for i := range e {
		e[i] |= self.declared[i]
		c[i] &^= self.declared[i]
	}
	e.clear(self.id)
	c.set(self.id)
	return e, c
}

// track traverses the folded tree breadth-first, stopping at rejected
// versions, and records the versions reached. With final set it also
// records the occurrences and edges the report needs.
func (w *walker) track(final bool) *walkResult {
	res := &walkResult{
		tracked:  make([]*trackInfo, len(w.g.nodes)),
		byID:     map[string][]int{},
		minDepth: make([]int, w.g.width),
	}
	visited := make([]bool, len(w.exps))
	depth := make([]int, len(w.exps))
	var insts []*inst
	if final {
		insts = make([]*inst, len(w.exps))
		insts[0] = &inst{node: -1}
	}
	visited[0] = true
	queue := []int{0}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		var parent *inst
		if final {
			parent = insts[x]
		}
		for _, c := range w.exps[x].children {
			switch {
			case c.kind == childCycle:
				if final {
					res.cycles = append(res.cycles, edgeRec{parent: parent, dep: c.dep, node: -1})
				}
				continue
			case c.kind == childUnresolved:
				if final {
					res.unresolved = append(res.unresolved, edgeRec{parent: parent, dep: c.dep, node: -1})
				}
				continue
			case w.rejected[c.pkg]:
				if final {
					res.rejected = append(res.rejected, edgeRec{parent: parent, dep: c.dep, node: c.pkg})
				}
				continue
			}
			if final {
				res.edges = append(res.edges, edgeRec{parent: parent, dep: c.dep, node: c.pkg})
			}
			pkg := w.g.nodes[c.pkg]
			if res.tracked[c.pkg] == nil {
				t := &trackInfo{free: true}
				if final {
					t.first = &inst{node: c.pkg, parent: parent, dep: c.dep}
				}
				res.tracked[c.pkg] = t
				res.byID[pkg.key] = append(res.byID[pkg.key], c.pkg)
			}
			if d := res.minDepth[pkg.id]; d == 0 || depth[x]+1 < d {
				res.minDepth[pkg.id] = depth[x] + 1
			}
			if !visited[c.exp] {
				visited[c.exp] = true
				depth[c.exp] = depth[x] + 1
				if final {
					insts[c.exp] = &inst{node: c.pkg, parent: parent, dep: c.dep}
				}
				queue = append(queue, c.exp)
			}
		}
	}
	return res
}

// markAmbiguous traverses the folded tree again, carrying whether an
// ancestor's id is disputed, and records in res the ids that occur below a
// disputed id and the versions that also occur free of one.
func (w *walker) markAmbiguous(res *walkResult, disputed []bool) {
	res.ambiguous = make([]bool, w.g.width)
	for _, t := range res.tracked {
		if t != nil {
			t.free = false
		}
	}
	type state struct {
		exp   int
		below bool
	}
	visited := make([][2]bool, len(w.exps))
	visited[0][0] = true
	queue := []state{{0, false}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		below := s.below
		if n := w.exps[s.exp].node; n >= 0 && disputed[w.g.nodes[n].id] {
			below = true
		}
		for _, c := range w.exps[s.exp].children {
			if c.kind != childOK || w.rejected[c.pkg] {
				continue
			}
			if below {
				res.ambiguous[w.g.nodes[c.pkg].id] = true
			} else {
				res.tracked[c.pkg].free = true
			}
			b := 0
			if below {
				b = 1
			}
			if !visited[c.exp][b] {
				visited[c.exp][b] = true
				queue = append(queue, state{c.exp, below})
			}
		}
	}
}

// settle rejects, round after round, the lower versions of each id reached
// in several versions, until every id reached has one version. An id is
// settled only when none of its occurrences lies below another unsettled
// id, as NuGet does, so that a version brought in by a package that later
// loses cannot decide anything.
func (w *walker) settle() (*walkResult, error) {
	if err := w.build(); err != nil {
		return nil, err
	}
	restored := 0
	for round := 0; ; round++ {
		if round > maxRounds {
			return nil, fmt.Errorf("%w: versions did not settle after %d rounds", ErrGraphTooLarge, maxRounds)
		}
		res := w.track(false)
		var disputedIDs []string
		disputed := make([]bool, w.g.width)
		for k, nodes := range res.byID {
			if len(nodes) > 1 {
				disputedIDs = append(disputedIDs, k)
				disputed[w.g.ids[k]] = true
			}
		}
		if len(disputedIDs) == 0 {
			final := w.track(true)
			if w.restoreOrphans(final) {
				if restored++; restored > maxRestores {
					return nil, errors.New("resolve: conflicting versions could not be settled")
				}
				continue
			}
			return final, nil
		}
		w.markAmbiguous(res, disputed)
		for _, k := range w.decide(disputedIDs, res) {
			nodes := res.byID[k]
			best := nodes[0]
			for _, n := range nodes[1:] {
				if nuget.Compare(w.g.nodes[n].version, w.g.nodes[best].version) > 0 {
					best = n
				}
			}
			for _, n := range nodes {
				if n != best {
					w.rejected[n] = true
				}
			}
		}
	}
}

// decide picks the disputed ids to settle this round: those without an
// occurrence below a disputed id. When disputes hold each other up, NuGet
// gives up; here the nearest id whose highest version has an occurrence
// free of disputed ancestors is settled, else simply the nearest id.
func (w *walker) decide(ids []string, res *walkResult) []string {
	var out []string
	sort.Slice(ids, func(i, j int) bool {
		di, dj := res.minDepth[w.g.ids[ids[i]]], res.minDepth[w.g.ids[ids[j]]]
		if di != dj {
			return di < dj
		}
		return ids[i] < ids[j]
	})
	for _, k := range ids {
		if !res.ambiguous[w.g.ids[k]] {
			out = append(out, k)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, k := range ids {
		best := -1
		for _, n := range res.byID[k] {
			if best < 0 || nuget.Compare(w.g.nodes[n].version, w.g.nodes[best].version) > 0 {
				best = n
			}
		}
		if best >= 0 && res.tracked[best].free {
			return []string{k}
		}
	}
	return ids[:1]
}

// restoreOrphans un-rejects, for each id that a kept package depends on but
// that no longer has any version reached, the highest rejected version it
// asked for. It only matters after decide had to break a deadlock.
func (w *walker) restoreOrphans(res *walkResult) bool {
	best := map[string]int{}
	for _, e := range res.rejected {
		k := w.g.nodes[e.node].key
		if len(res.byID[k]) > 0 {
			continue
		}
		if b, ok := best[k]; !ok || nuget.Compare(w.g.nodes[e.node].version, w.g.nodes[b].version) > 0 {
			best[k] = e.node
		}
	}
	for _, n := range best {
		w.rejected[n] = false
	}
	return len(best) > 0
}
