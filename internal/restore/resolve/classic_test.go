package resolve

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/nuget"
)

// This file holds a literal, unoptimised model of NuGet's original
// resolver: it builds the whole dependency tree, one node per path, then
// runs the reject / track / mark-ambiguous / accept passes until nothing is
// left undecided. The resolver must choose the same packages on every
// small random graph.

type classicNode struct {
	key      string
	version  nuget.Version
	deps     []Dependency // for the framework
	parent   *classicNode
	viaIndex int // index, in parent's deps, of the dependency leading here
	children []*classicNode
	state    int // acceptable, accepted, rejected
}

const (
	acceptable = iota
	accepted
	rejectedState
)

const maxClassicNodes = 200_000

func buildClassicTree(t *testing.T, src *memSource, direct []Dependency) (*classicNode, bool) {
	t.Helper()
	root := &classicNode{key: "", deps: direct}
	count := 0
	var expand func(n *classicNode) bool
	expand = func(n *classicNode) bool {
		for i, d := range n.deps {
			k := strings.ToLower(d.ID)
			skip := false
			if n.parent != nil {
				// Walk up from the parent, nearest first: an ancestor with
				// the id is a cycle, an ancestor declaring it eclipses.
				child, a := n, n.parent
				for a != nil && !skip {
					if a.key == k {
						skip = true
						break
					}
					for j, x := range a.deps {
						if j != child.viaIndex && strings.ToLower(x.ID) == k {
							skip = true
							break
						}
					}
					child, a = a, a.parent
				}
			}
			if n.key == k {
				skip = true
			}
			if skip {
				continue
			}
			var versions []nuget.Version
			for _, p := range src.pkgs[k] {
				versions = append(versions, p.version)
			}
			v, ok := d.Range.FindBest(versions)
			if !ok {
				t.Fatalf("classic model: %s unresolved", d.ID)
			}
			c := &classicNode{key: k, version: v, parent: n, viaIndex: i,
				deps: nearestGroup(net80, src.pkgs[k][v.String()].groups)}
			n.children = append(n.children, c)
			if count++; count > maxClassicNodes {
				return false
			}
			if !expand(c) {
				return false
			}
		}
		return true
	}
	return root, expand(root)
}

func bfs(root *classicNode, visit func(n *classicNode, state int) int, start int) {
	type item struct {
		n     *classicNode
		state int
	}
	queue := []item{{root, start}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		s := visit(it.n, it.state)
		for _, c := range it.n.children {
			queue = append(queue, item{c, s})
		}
	}
}

// classicSettle runs NuGet's conflict passes; false when it gives up.
func classicSettle(root *classicNode) bool {
	const (
		walking = iota
		rejectedWalk
		ambiguousWalk
	)
	for patience := 1000; patience > 0; patience-- {
		tracked := map[string]map[string]nuget.Version{}
		bfs(root, func(n *classicNode, ok int) int {
			if ok == 0 || n.state == rejectedState {
				n.state = rejectedState
				return 0
			}
			if tracked[n.key] == nil {
				tracked[n.key] = map[string]nuget.Version{}
			}
			tracked[n.key][n.version.String()] = n.version
			return 1
		}, 1)
		ambiguous := map[string]bool{}
		bfs(root, func(n *classicNode, s int) int {
			if n.state == rejectedState {
				return rejectedWalk
			}
			if s == walking && len(tracked[n.key]) > 1 {
				return ambiguousWalk
			}
			if s == ambiguousWalk {
				ambiguous[n.key] = true
			}
			return s
		}, walking)
		bfs(root, func(n *classicNode, ok int) int {
			if ok == 0 || n.state == rejectedState || ambiguous[n.key] {
				return 0
			}
			if n.state == acceptable {
				n.state = accepted
				for _, v := range tracked[n.key] {
					if nuget.Compare(n.version, v) < 0 {
						n.state = rejectedState
					}
				}
			}
			if n.state == accepted {
				return 1
			}
			return 0
		}, 1)
		incomplete := false
		bfs(root, func(n *classicNode, _ int) int {
			if n.state == acceptable {
				incomplete = true
			}
			return 0
		}, 0)
		if !incomplete {
			return true
		}
	}
	return false
}

func classicPackages(root *classicNode) string {
	set := map[string]bool{}
	bfs(root, func(n *classicNode, _ int) int {
		if n.parent != nil && n.state == accepted {
			set[n.key+" "+n.version.String()] = true
		}
		return 0
	}, 0)
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// smallGraph builds n packages with three versions each; dependencies point
// anywhere (cycles included) with random lower bounds and, sometimes, upper
// bounds.
func smallGraph(t *testing.T, n int, rng *rand.Rand) (*memSource, []Dependency) {
	src := newSource()
	for i := 0; i < n; i++ {
		for v := 1; v <= 3; v++ {
			var deps []string
			for k := rng.Intn(4); k > 0; k-- {
				j := rng.Intn(n)
				lo := 1 + rng.Intn(3)
				spec := fmt.Sprintf("P%d %d.0", j, lo)
				if rng.Intn(4) == 0 {
					spec = fmt.Sprintf("P%d [%d.0,%d.0]", j, lo, lo+rng.Intn(3-lo+1))
				}
				deps = append(deps, spec)
			}
			src.add(t, fmt.Sprintf("P%d", i), fmt.Sprintf("%d.0.0", v), deps...)
		}
	}
	var direct []string
	for _, i := range rng.Perm(n)[:1+rng.Intn(3)] {
		direct = append(direct, fmt.Sprintf("P%d %d.0", i, 1+rng.Intn(3)))
	}
	return src, parseDeps(t, direct)
}

func TestMatchesClassicResolver(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	compared, skipped := 0, 0
	for round := 0; round < 400; round++ {
		src, direct := smallGraph(t, 4+rng.Intn(7), rng)
		root, ok := buildClassicTree(t, src, direct)
		if !ok || !classicSettle(root) {
			skipped++
			continue
		}
		want := classicPackages(root)
		g, err := Resolve(context.Background(), src, net80, direct)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := graphSummary(g)
		if got != want {
			var specs []string
			for k, vs := range src.pkgs {
				for v, p := range vs {
					var ds []string
					for _, d := range p.groups[0].Dependencies {
						ds = append(ds, d.ID+" "+d.Range.String())
					}
					specs = append(specs, fmt.Sprintf("%s %s -> %s", k, v, strings.Join(ds, "; ")))
				}
			}
			sort.Strings(specs)
			t.Fatalf("round %d: resolver %q, classic %q\ndirect %v\n%s", round, got, want, direct, strings.Join(specs, "\n"))
		}
		compared++
	}
	t.Logf("compared %d graphs with the classic model, skipped %d too large or undecided", compared, skipped)
	if compared < 300 {
		t.Errorf("only %d graphs compared", compared)
	}
}
