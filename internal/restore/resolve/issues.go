package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
)

// reporter turns the settled walk into packages and issues.
type reporter struct {
	g       *staticGraph
	res     *walkResult
	direct  []Dependency
	project string
}

// accepted returns the node chosen for an id, if the id is in the graph.
func (r *reporter) accepted(key string) (int, bool) {
	nodes := r.res.byID[key]
	if len(nodes) != 1 {
		return 0, false
	}
	return nodes[0], true
}

// acceptedKeys returns the ids in the graph, sorted.
func (r *reporter) acceptedKeys() []string {
	keys := make([]string, 0, len(r.res.byID))
	for k := range r.res.byID {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *reporter) packages() []Package {
	var out []Package
	for _, k := range r.acceptedKeys() {
		n, ok := r.accepted(k)
		if !ok {
			continue
		}
		node := r.g.nodes[n]
		out = append(out, Package{ID: r.res.tracked[n].first.dep.ID, Version: node.version, Dependencies: node.deps})
	}
	return out
}

// label names an occurrence in a path: the project, or "id version".
func (r *reporter) label(n *inst) string {
	if n.node < 0 {
		return r.project
	}
	return n.dep.ID + " " + r.g.nodes[n.node].version.String()
}

// pathTo writes the path from the project to the dependency d of parent:
// "project -> A 1.0.0 -> B (>= 2.0.0)".
func (r *reporter) pathTo(parent *inst, d Dependency) string {
	var parts []string
	for n := parent; n != nil; n = n.parent {
		parts = append(parts, r.label(n))
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(append(parts, dependencyLabel(d)), " -> ")
}

func dependencyLabel(d Dependency) string {
	if p := d.Range.Pretty(); p != "" {
		return d.ID + " " + p
	}
	return d.ID
}

func (r *reporter) issues() []Issue {
	var out []Issue
	unresolved := r.unresolvedIssues(&out)
	conflicted := r.conflictIssues(&out)
	r.cycleIssues(&out)
	r.packageIssues(&out, unresolved, conflicted)
	r.lowerBoundIssues(&out)
	return out
}

// unresolvedIssues reports NU1101, NU1102 and NU1103 and returns the
// dependencies (edge keys) it reported.
func (r *reporter) unresolvedIssues(out *[]Issue) map[string]bool {
	reported := map[string]bool{}
	missingID := map[string]bool{}
	for _, e := range r.res.unresolved {
		ek := edgeKey(e.dep)
		if reported[ek] {
			continue
		}
		reported[ek] = true
		versions := distinctSorted(r.g.res[ek].versions)
		if len(versions) == 0 {
			if k := idKey(e.dep.ID); !missingID[k] {
				missingID[k] = true
				*out = append(*out, Issue{Code: "NU1101", ID: e.dep.ID, Message: fmt.Sprintf(
					"Unable to find package %s. No version of it exists on the package sources.", e.dep.ID)})
			}
			continue
		}
		code, what := "NU1102", "package"
		if !hasPrereleaseBound(e.dep.Range) && onlyPrereleaseInRange(e.dep.Range, versions) {
			code, what = "NU1103", "a stable package"
		}
		first := fmt.Sprintf("Unable to find %s %s", what, e.dep.ID)
		if p := e.dep.Range.Pretty(); p != "" {
			first += " with version " + p
		}
		*out = append(*out, Issue{Code: code, ID: e.dep.ID, Message: fmt.Sprintf(
			"%s\n  - Found %d version(s) [ Nearest version: %s ]", first, len(versions), nearestVersion(e.dep.Range, versions))})
	}
	return reported
}

func hasPrereleaseBound(rg nuget.Range) bool {
	min, hasMin := rg.Min()
	max, hasMax := rg.Max()
	return (hasMin && min.IsPrerelease()) || (hasMax && max.IsPrerelease())
}

// onlyPrereleaseInRange reports whether versions in the bounds of rg exist
// and are all prerelease.
func onlyPrereleaseInRange(rg nuget.Range, versions []nuget.Version) bool {
	pre, stable := false, false
	for _, v := range versions {
		if rg.Satisfies(v) {
			if v.IsPrerelease() {
				pre = true
			} else {
				stable = true
			}
		}
	}
	return pre && !stable
}

// nearestVersion picks the version NuGet names in NU1102: the first at or
// above the range's lower bound (or its upper bound, for a range without
// lower bound), else the highest; a floating range without upper bound
// names the highest.
func nearestVersion(rg nuget.Range, sorted []nuget.Version) nuget.Version {
	var ideal nuget.Version
	max, hasMax := rg.Max()
	min, hasMin := rg.Min()
	if hasMax {
		ideal = max
	}
	if hasMin {
		ideal = min
	}
	if (!rg.IsFloating() && (hasMin || hasMax)) || (rg.IsFloating() && hasMax) {
		for _, v := range sorted {
			if nuget.Compare(v, ideal) >= 0 {
				return v
			}
		}
	}
	return sorted[len(sorted)-1]
}

func distinctSorted(vs []nuget.Version) []nuget.Version {
	out := append([]nuget.Version(nil), vs...)
	sort.SliceStable(out, func(i, j int) bool { return nuget.Compare(out[i], out[j]) < 0 })
	n := 0
	for i, v := range out {
		if i > 0 && nuget.Compare(v, out[n-1]) == 0 {
			continue
		}
		out[n] = v
		n++
	}
	return out[:n]
}

// conflictIssues reports NU1107: a dependency kept in the graph whose range
// the chosen version of its id falls outside of. It returns the ids reported.
func (r *reporter) conflictIssues(out *[]Issue) map[string]bool {
	reported := map[string]bool{}
	for _, e := range r.res.rejected {
		k := idKey(e.dep.ID)
		n, ok := r.accepted(k)
		if !ok || reported[k] {
			continue
		}
		chosen := r.g.nodes[n].version
		if e.dep.Range.Satisfies(chosen) {
			continue
		}
		reported[k] = true
		first := r.res.tracked[n].first
		*out = append(*out, Issue{Code: "NU1107", ID: e.dep.ID, Message: fmt.Sprintf(
			"Version conflict detected for %s. Reference %s %s directly from %s to resolve it.\n  %s\n  %s",
			first.dep.ID, first.dep.ID, chosen, r.project,
			r.pathTo(first.parent, first.dep), r.pathTo(e.parent, e.dep))})
	}
	return reported
}

// cycleIssues reports NU1108, once per dependency closing a cycle.
func (r *reporter) cycleIssues(out *[]Issue) {
	reported := map[string]bool{}
	for _, e := range r.res.cycles {
		k := r.g.nodes[e.parent.node].key + ">" + idKey(e.dep.ID)
		if reported[k] {
			continue
		}
		reported[k] = true
		*out = append(*out, Issue{Code: "NU1108", ID: e.dep.ID, Message: "Cycle detected.\n  " + r.pathTo(e.parent, e.dep)})
	}
}

// packageIssues checks every dependency of every package in the graph
// against the version chosen for it: below its minimum is a downgrade
// (NU1605), above its maximum, when not already a conflict, is NU1608.
func (r *reporter) packageIssues(out *[]Issue, unresolved, conflicted map[string]bool) {
	cycle := map[string]bool{}
	for _, e := range r.res.cycles {
		cycle[r.g.nodes[e.parent.node].key+">"+idKey(e.dep.ID)] = true
	}
	for _, pk := range r.acceptedKeys() {
		pn, ok := r.accepted(pk)
		if !ok {
			continue
		}
		parent := r.res.tracked[pn].first
		done := map[string]bool{}
		for _, d := range r.g.nodes[pn].deps {
			k := idKey(d.ID)
			xn, ok := r.accepted(k)
			if !ok || done[k] || cycle[pk+">"+k] || unresolved[edgeKey(d)] {
				continue
			}
			chosen := r.g.nodes[xn].version
			if d.Range.Satisfies(chosen) {
				continue
			}
			done[k] = true
			winner := r.res.tracked[xn].first
			if min, hasMin := d.Range.Min(); hasMin && nuget.Compare(chosen, min) <= 0 {
				*out = append(*out, Issue{Code: "NU1605", Severity: SeverityWarning, ID: d.ID, Message: fmt.Sprintf(
					"Detected package downgrade: %s from %s to %s. Reference the package directly from the project to choose a different version.\n  %s\n  %s",
					d.ID, min, chosen, r.pathTo(parent, d), r.pathTo(winner.parent, winner.dep))})
				continue
			}
			if max, hasMax := d.Range.Max(); hasMax && nuget.Compare(chosen, max) >= 0 && !conflicted[k] {
				*out = append(*out, Issue{Code: "NU1608", Severity: SeverityWarning, ID: d.ID, Message: fmt.Sprintf(
					"Detected package version outside of dependency constraint: %s requires %s but version %s %s was resolved.",
					r.label(parent), dependencyLabel(d), winner.dep.ID, chosen)})
			}
		}
	}
}

// lowerBoundIssues reports NU1603: a dependency with an inclusive lower
// bound that does not exist, so a higher version was taken.
func (r *reporter) lowerBoundIssues(out *[]Issue) {
	reported := map[string]bool{}
	for _, e := range r.res.edges {
		if e.dep.Range.IsFloating() || !e.dep.Range.MinInclusive() {
			continue
		}
		min, _ := e.dep.Range.Min()
		got := r.g.nodes[e.node].version
		if nuget.Compare(min, got) == 0 {
			continue
		}
		pk := ""
		if e.parent.node >= 0 {
			pk = r.g.nodes[e.parent.node].key
		}
		if k := pk + ">" + edgeKey(e.dep); !reported[k] {
			reported[k] = true
			*out = append(*out, Issue{Code: "NU1603", Severity: SeverityWarning, ID: e.dep.ID, Message: fmt.Sprintf(
				"%s depends on %s but %s %s was not found. %s %s was resolved instead.",
				r.label(e.parent), dependencyLabel(e.dep), e.dep.ID, min, e.dep.ID, got)})
		}
	}
}
