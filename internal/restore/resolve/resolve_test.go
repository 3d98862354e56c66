package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
)

var net80 = nuget.Framework{ID: nuget.FrameworkNETCoreApp, Version: nuget.FrameworkVersion{8}}

// graphSummary writes the packages of g as "a 1.0.0, b 2.0.0" (lower-case
// ids, sorted) and its issue codes as "NU1107 c, NU1605 b".
func graphSummary(g *Graph) (packages, issues string) {
	var ps, is []string
	for _, p := range g.Packages {
		ps = append(ps, strings.ToLower(p.ID)+" "+p.Version.String())
	}
	for _, i := range g.Issues {
		is = append(is, i.Code+" "+strings.ToLower(i.ID))
	}
	return strings.Join(ps, ", "), strings.Join(is, ", ")
}

type pkgSpec struct {
	id, version string
	deps        []string
}

func p(id, version string, deps ...string) pkgSpec { return pkgSpec{id, version, deps} }

// TestResolveRules is one case per rule of NuGet's dependency resolution.
func TestResolveRules(t *testing.T) {
	tests := []struct {
		name     string
		pkgs     []pkgSpec
		direct   []string
		packages string
		issues   string
	}{
		{
			name:     "lowest applicable version",
			pkgs:     []pkgSpec{p("A", "2.0.0"), p("A", "1.0.0"), p("A", "1.5.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0",
		},
		{
			name:     "missing lower bound takes the next version with NU1603",
			pkgs:     []pkgSpec{p("A", "1.1.0"), p("A", "2.0.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.1.0",
			issues:   "NU1603 a",
		},
		{
			name:     "range [1.0,2.0)",
			pkgs:     []pkgSpec{p("A", "0.9.0"), p("A", "1.2.0"), p("A", "1.8.0"), p("A", "2.0.0")},
			direct:   []string{"A [1.0,2.0)"},
			packages: "a 1.2.0",
			issues:   "NU1603 a",
		},
		{
			name:     "exact version",
			pkgs:     []pkgSpec{p("A", "1.0.0"), p("A", "1.5.0"), p("A", "2.0.0")},
			direct:   []string{"A [1.5.0]"},
			packages: "a 1.5.0",
		},
		{
			name:     "floating 1.* takes the highest 1.x",
			pkgs:     []pkgSpec{p("A", "1.0.0"), p("A", "1.4.0"), p("A", "1.5.0-beta"), p("A", "2.0.0")},
			direct:   []string{"A 1.*"},
			packages: "a 1.4.0",
		},
		{
			name:     "floating * takes the highest stable",
			pkgs:     []pkgSpec{p("A", "1.0.0"), p("A", "2.0.0"), p("A", "3.0.0-rc.1")},
			direct:   []string{"A *"},
			packages: "a 2.0.0",
		},
		{
			name:     "floating *-* takes prereleases too",
			pkgs:     []pkgSpec{p("A", "1.0.0"), p("A", "2.0.0"), p("A", "3.0.0-rc.1")},
			direct:   []string{"A *-*"},
			packages: "a 3.0.0-rc.1",
		},
		{
			name:     "prerelease lower bound allows prereleases",
			pkgs:     []pkgSpec{p("A", "1.0.0-alpha"), p("A", "1.0.0-beta.2"), p("A", "1.0.0")},
			direct:   []string{"A 1.0.0-beta.1"},
			packages: "a 1.0.0-beta.2",
			issues:   "NU1603 a",
		},
		{
			name:     "stable range skips prereleases",
			pkgs:     []pkgSpec{p("A", "1.0.1-beta"), p("A", "1.0.2")},
			direct:   []string{"A 1.0.0"},
			packages: "a 1.0.2",
			issues:   "NU1603 a",
		},
		{
			name:   "only prereleases for a stable range is NU1103",
			pkgs:   []pkgSpec{p("A", "1.1.0-rc.1"), p("A", "0.9.0")},
			direct: []string{"A 1.0"},
			issues: "NU1103 a",
		},
		{
			name:   "no version in range is NU1102",
			pkgs:   []pkgSpec{p("A", "1.0.0"), p("A", "2.0.0")},
			direct: []string{"A [3.0,)"},
			issues: "NU1102 a",
		},
		{
			name:     "no such package is NU1101",
			pkgs:     []pkgSpec{p("A", "1.0.0", "Missing 1.0")},
			direct:   []string{"A 1.0", "Nowhere 2.0"},
			packages: "a 1.0.0",
			issues:   "NU1101 missing, NU1101 nowhere",
		},
		{
			name:     "transitive lowest applicable",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B 1.0"), p("B", "1.0.0"), p("B", "1.1.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0, b 1.0.0",
		},
		{
			name:     "ids ignore case",
			pkgs:     []pkgSpec{p("Newtonsoft.Json", "13.0.1"), p("A", "1.0.0", "NEWTONSOFT.JSON 13.0.1")},
			direct:   []string{"a 1.0", "newtonsoft.json 13.0.1"},
			packages: "a 1.0.0, newtonsoft.json 13.0.1",
		},
		{
			name:     "direct dependency wins over a higher transitive one: NU1605",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B 2.0"), p("B", "1.0.0"), p("B", "2.0.0")},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0",
			issues:   "NU1605 b",
		},
		{
			name:     "direct dependency upgrades a transitive one silently",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B 1.0"), p("B", "1.0.0"), p("B", "2.0.0")},
			direct:   []string{"A 1.0", "B 2.0"},
			packages: "a 1.0.0, b 2.0.0",
		},
		{
			name:     "direct dependency above a transitive upper bound: NU1608",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B [1.0,2.0)"), p("B", "1.0.0"), p("B", "2.0.0")},
			direct:   []string{"A 1.0", "B 2.0"},
			packages: "a 1.0.0, b 2.0.0",
			issues:   "NU1608 b",
		},
		{
			name: "nearest wins within a subgraph, with a downgrade",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "B 1.0", "C 1.0"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0"), p("C", "2.0.0"),
			},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 1.0.0",
			issues:   "NU1605 c",
		},
		{
			name: "nearest wins within a subgraph, upgrading",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "B 1.0", "C 2.0"), p("B", "1.0.0", "C 1.0"),
				p("C", "1.0.0"), p("C", "2.0.0"),
			},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0",
		},
		{
			name: "a declaration in another subgraph does not eclipse: cousins",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "X 1.0"), p("B", "1.0.0", "C 1.0"), p("C", "1.0.0", "X 2.0"),
				p("X", "1.0.0"), p("X", "2.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 1.0.0, x 2.0.0",
		},
		{
			name: "cousins take the highest lower bound",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C 1.0"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0"), p("C", "2.0.0"), p("C", "3.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0",
		},
		{
			name: "cousins within every range",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C [1.0,3.0)"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0"), p("C", "2.0.0"), p("C", "3.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0",
		},
		{
			name: "cousin conflict on exact versions: NU1107",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C [1.0]"), p("B", "1.0.0", "C [2.0]"),
				p("C", "1.0.0"), p("C", "2.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0",
			issues:   "NU1107 c",
		},
		{
			name: "cousin conflict on an upper bound: NU1107",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C [1.0,2.0)"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0"), p("C", "2.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0",
			issues:   "NU1107 c",
		},
		{
			name: "a direct reference settles a cousin conflict",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C [1.0,2.0)"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0"), p("C", "2.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0", "C 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 1.0.0",
			issues:   "NU1605 c",
		},
		{
			name: "diamond",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "D 1.0"), p("B", "1.0.0", "D 1.0"), p("D", "1.0.0"), p("D", "1.1.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, d 1.0.0",
		},
		{
			name: "diamond: the losing version's dependencies are dropped",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "C 1.0"), p("B", "1.0.0", "C 2.0"),
				p("C", "1.0.0", "X 1.0"), p("C", "2.0.0", "Y 1.0"), p("X", "1.0.0"), p("Y", "1.0.0"),
			},
			direct:   []string{"A 1.0", "B 1.0"},
			packages: "a 1.0.0, b 1.0.0, c 2.0.0, y 1.0.0",
		},
		{
			name: "a version brought by a losing package decides nothing",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "B 1.0"), p("C", "1.0.0", "B 2.0"), p("D", "1.0.0", "X 1.0"),
				p("B", "1.0.0", "X 5.0"), p("B", "2.0.0"),
				p("X", "1.0.0"), p("X", "5.0.0"),
			},
			direct:   []string{"A 1.0", "C 1.0", "D 1.0"},
			packages: "a 1.0.0, b 2.0.0, c 1.0.0, d 1.0.0, x 1.0.0",
		},
		{
			name:     "cycle: NU1108",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B 1.0"), p("B", "1.0.0", "A 1.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0, b 1.0.0",
			issues:   "NU1108 a",
		},
		{
			name:     "self dependency: NU1108",
			pkgs:     []pkgSpec{p("A", "1.0.0", "A 1.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0",
			issues:   "NU1108 a",
		},
		{
			name: "a cycle eclipsed by the project is no cycle",
			pkgs: []pkgSpec{
				p("A", "1.0.0", "X 1.0"), p("X", "1.0.0", "A 1.0"),
			},
			direct:   []string{"A 1.0", "X 1.0"},
			packages: "a 1.0.0, x 1.0.0",
		},
		{
			name:     "duplicate direct reference: NU1504, first wins",
			pkgs:     []pkgSpec{p("A", "1.0.0"), p("A", "2.0.0")},
			direct:   []string{"A 2.0", "a 1.0"},
			packages: "a 2.0.0",
			issues:   "NU1504 a",
		},
		{
			name: "unlisted versions count like any other",
			pkgs: []pkgSpec{p("A", "1.0.0"), p("A", "1.0.1")},
			// the in-memory source, like a flat container, lists every version
			direct:   []string{"A [1.0.0]"},
			packages: "a 1.0.0",
		},
		{
			name:     "dependency without version takes the lowest stable",
			pkgs:     []pkgSpec{p("A", "1.0.0", "B"), p("B", "0.1.0-pre"), p("B", "0.2.0"), p("B", "1.0.0")},
			direct:   []string{"A 1.0"},
			packages: "a 1.0.0, b 0.2.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource()
			for _, ps := range tt.pkgs {
				src.add(t, ps.id, ps.version, ps.deps...)
			}
			g, err := Resolve(context.Background(), src, net80, parseDeps(t, tt.direct))
			if err != nil {
				t.Fatal(err)
			}
			packages, issues := graphSummary(g)
			if packages != tt.packages {
				t.Errorf("packages = %q, want %q", packages, tt.packages)
			}
			if issues != tt.issues {
				t.Errorf("issues = %q, want %q", issues, tt.issues)
				for _, i := range g.Issues {
					t.Logf("%s %s: %s", i.Code, i.Severity, i.Message)
				}
			}
			for _, i := range g.Issues {
				wantSeverity := SeverityError
				switch i.Code {
				case "NU1605", "NU1608", "NU1603", "NU1504":
					wantSeverity = SeverityWarning
				}
				if i.Severity != wantSeverity {
					t.Errorf("%s has severity %s", i.Code, i.Severity)
				}
			}
		})
	}
}

func TestIssueMessages(t *testing.T) {
	src := newSource()
	src.add(t, "A", "1.0.0", "C [1.0,2.0)")
	src.add(t, "B", "1.0.0", "C 2.0")
	src.add(t, "C", "1.0.0")
	src.add(t, "C", "2.0.0")
	src.add(t, "D", "1.0.0", "E 2.0")
	src.add(t, "E", "1.0.0")
	src.add(t, "E", "2.0.0")
	src.add(t, "F", "1.0.0")
	src.add(t, "F", "2.5.0")
	r := &Resolver{Source: src, ProjectName: "app"}
	g, err := r.Resolve(context.Background(), net80, parseDeps(t, []string{"A 1.0", "B 1.0", "D 1.0", "E 1.0", "F [2.0,3.0)", "G 1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"NU1107": {"Version conflict detected for C.", "C 2.0.0", "\n  app -> B 1.0.0 -> C (>= 2.0.0)", "\n  app -> A 1.0.0 -> C (>= 1.0.0 && < 2.0.0)"},
		"NU1605": {"Detected package downgrade: E from 2.0.0 to 1.0.0.", "\n  app -> D 1.0.0 -> E (>= 2.0.0)", "\n  app -> E (>= 1.0.0)"},
		"NU1603": {"app depends on F (>= 2.0.0 && < 3.0.0) but F 2.0.0 was not found. F 2.5.0 was resolved"},
		"NU1101": {"Unable to find package G."},
	}
	seen := map[string]bool{}
	for _, i := range g.Issues {
		seen[i.Code] = true
		for _, part := range want[i.Code] {
			if !strings.Contains(i.Message, part) {
				t.Errorf("%s message %q lacks %q", i.Code, i.Message, part)
			}
		}
	}
	for code := range want {
		if !seen[code] {
			t.Errorf("no %s issue in %v", code, g.Issues)
		}
	}
	if !g.HasErrors() || !g.HasErrors(DefaultWarningsAsErrors...) {
		t.Error("HasErrors is false with NU1107 and NU1101")
	}

	src = newSource()
	src.add(t, "A", "1.0.0")
	src.add(t, "A", "2.0.0")
	src.add(t, "A", "2.0.0") // a duplicate does not count twice
	src.add(t, "P", "1.1.0-rc.1")
	g, err = Resolve(context.Background(), src, net80, parseDeps(t, []string{"A [3.0,)", "P 1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range g.Issues {
		switch i.Code {
		case "NU1102":
			if !strings.HasPrefix(i.Message, "Unable to find package A with version (>= 3.0.0)") ||
				!strings.Contains(i.Message, "Found 2 version(s) [ Nearest version: 2.0.0 ]") {
				t.Errorf("NU1102 message %q", i.Message)
			}
		case "NU1103":
			if !strings.HasPrefix(i.Message, "Unable to find a stable package P with version (>= 1.0.0)") ||
				!strings.Contains(i.Message, "Nearest version: 1.1.0-rc.1") {
				t.Errorf("NU1103 message %q", i.Message)
			}
		default:
			t.Errorf("unexpected %s: %s", i.Code, i.Message)
		}
	}
}

func TestDowngradeIsAnErrorOnlyWhenPromoted(t *testing.T) {
	src := newSource()
	src.add(t, "A", "1.0.0", "B 2.0")
	src.add(t, "B", "1.0.0")
	src.add(t, "B", "2.0.0")
	g, err := Resolve(context.Background(), src, net80, parseDeps(t, []string{"A 1.0", "B 1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	if g.HasErrors() {
		t.Error("a lone NU1605 is an error without promotion")
	}
	if !g.HasErrors(DefaultWarningsAsErrors...) || !g.HasErrors("nu1605") {
		t.Error("NU1605 promoted is not an error")
	}
}

func TestDependencyGroups(t *testing.T) {
	src := newSource()
	src.addGroups(t, "A", "1.0.0", map[string][]string{
		"net472":            {"OldOnly 1.0"},
		".NETStandard2.0":   {"Std 1.0"},
		"net8.0-windows":    {"WinOnly 1.0"},
		"monoandroid10.0":   {"Droid 1.0"},
		"net6.0":            {"Modern 1.0"},
		"not a framework!!": {"Junk 1.0"},
	})
	src.addGroups(t, "B", "1.0.0", map[string][]string{"net45": {"Old 1.0"}})
	for _, id := range []string{"OldOnly", "Std", "WinOnly", "Droid", "Modern", "Junk", "Old"} {
		src.add(t, id, "1.0.0")
	}
	tests := []struct{ framework, packages string }{
		{"net8.0", "a 1.0.0, b 1.0.0, modern 1.0.0"},
		{"net8.0-windows", "a 1.0.0, b 1.0.0, winonly 1.0.0"},
		{"net5.0", "a 1.0.0, b 1.0.0, std 1.0.0"},
		{"net472", "a 1.0.0, b 1.0.0, old 1.0.0, oldonly 1.0.0"},
		{"net461", "a 1.0.0, b 1.0.0, old 1.0.0, std 1.0.0"},
		{"netstandard2.0", "a 1.0.0, b 1.0.0, std 1.0.0"},
		{"netstandard1.6", "a 1.0.0, b 1.0.0"},
	}
	for _, tt := range tests {
		fw, err := nuget.ParseFramework(tt.framework)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Resolve(context.Background(), src, fw, parseDeps(t, []string{"A 1.0", "B 1.0"}))
		if err != nil {
			t.Fatal(err)
		}
		if packages, issues := graphSummary(g); packages != tt.packages || issues != "" {
			t.Errorf("%s: packages %q issues %q, want %q", tt.framework, packages, issues, tt.packages)
		}
	}
}

func TestResolveAll(t *testing.T) {
	src := newSource()
	src.addGroups(t, "A", "1.0.0", map[string][]string{"net472": {"Old 1.0"}, "netstandard2.0": {"Std 1.0"}})
	src.add(t, "Old", "1.0.0")
	src.add(t, "Std", "1.0.0")
	src.add(t, "Std", "2.0.0")
	src.add(t, "Shared", "1.0.0")
	src.add(t, "Shared", "2.0.0")
	net472, _ := nuget.ParseFramework("net472")
	res, err := ResolveAll(context.Background(), src, []Target{
		{Framework: net80, Dependencies: parseDeps(t, []string{"A 1.0", "Shared 2.0", "Std 2.0"})},
		{Framework: net472, Dependencies: parseDeps(t, []string{"A 1.0", "Shared 1.0"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Graphs) != 2 || !res.Graphs[0].Framework.Equal(net80) || !res.Graphs[1].Framework.Equal(net472) {
		t.Fatalf("graphs %v", res.Graphs)
	}
	var union []string
	for _, p := range res.Packages {
		union = append(union, p.ID+" "+p.Version.String())
	}
	if got, want := strings.Join(union, ", "), "A 1.0.0, Old 1.0.0, Shared 1.0.0, Shared 2.0.0, Std 2.0.0"; got != want {
		t.Errorf("union = %q, want %q", got, want)
	}
	if res.HasErrors() {
		t.Error("unexpected errors")
	}
	// Shared work: every id and version was asked once for both frameworks.
	for k, n := range src.versions {
		if n != 1 {
			t.Errorf("Versions(%s) called %d times", k, n)
		}
	}
	for k, n := range src.deps {
		if n != 1 {
			t.Errorf("Dependencies(%s) called %d times", k, n)
		}
	}
	if _, ok := src.deps["std/1.0.0"]; ok {
		t.Error("asked for Std 1.0.0, which no graph needs")
	}
}

func TestSourceErrors(t *testing.T) {
	src := newSource()
	src.add(t, "A", "1.0.0", "B 1.0")
	src.add(t, "B", "1.0.0")
	src.fail = "b"
	_, err := Resolve(context.Background(), src, net80, parseDeps(t, []string{"A 1.0"}))
	if !errors.Is(err, errFeedDown) || !strings.HasPrefix(err.Error(), "resolve: ") {
		t.Errorf("error = %v, want the source's error, prefixed", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src.fail = ""
	if _, err := Resolve(ctx, src, net80, parseDeps(t, []string{"A 1.0"})); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := (&Resolver{}).Resolve(context.Background(), net80, nil); err == nil {
		t.Error("a Resolver without Source resolved")
	}
	g, err := Resolve(context.Background(), src, net80, nil)
	if err != nil || len(g.Packages) != 0 || len(g.Issues) != 0 {
		t.Errorf("empty project: %v %v", g, err)
	}
}

// generatedGraph builds a layered graph of n packages, three versions each;
// package i depends on up to four packages of later layers, with lower
// bounds that differ between versions so that cousins disagree.
func generatedGraph(t testing.TB, n int, seed int64) (*memSource, []Dependency) {
	rng := rand.New(rand.NewSource(seed))
	src := newSource()
	for i := 0; i < n; i++ {
		for v := 1; v <= 3; v++ {
			var deps []string
			for k := 0; k < 4 && i+1 < n; k++ {
				j := i + 1 + rng.Intn(min(n-i-1, 40))
				deps = append(deps, fmt.Sprintf("Pkg%03d %d.0", j, 1+rng.Intn(3)))
			}
			src.add(t, fmt.Sprintf("Pkg%03d", i), fmt.Sprintf("%d.0.0", v), deps...)
		}
	}
	var direct []Dependency
	for i := 0; i < 10; i++ {
		direct = append(direct, parseDeps(t, []string{fmt.Sprintf("Pkg%03d %d.0", i*3, 1+rng.Intn(3))})...)
	}
	return src, direct
}

func TestGeneratedGraph(t *testing.T) {
	src, direct := generatedGraph(t, 300, 1)
	src.delay = 200 * time.Microsecond
	r := &Resolver{Source: src, Workers: 8}
	start := time.Now()
	g, err := r.Resolve(context.Background(), net80, direct)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("300-package graph: %d packages, %d issues, %v, peak %d concurrent source calls", len(g.Packages), len(g.Issues), elapsed, src.peak)
	if len(g.Packages) < 100 {
		t.Errorf("only %d packages resolved", len(g.Packages))
	}
	// Generous for a loaded machine; it takes tens of milliseconds.
	if elapsed > 5*time.Second {
		t.Errorf("resolution took %v", elapsed)
	}
	if src.peak > 8 {
		t.Errorf("%d concurrent source calls with 8 workers", src.peak)
	}
	if src.peak < 2 {
		t.Errorf("source calls were not concurrent (peak %d)", src.peak)
	}
	checkGraphInvariants(t, g, direct)

	// Deterministic: the same input gives the same graph and issues.
	src2, direct2 := generatedGraph(t, 300, 1)
	g2, err := Resolve(context.Background(), src2, net80, direct2)
	if err != nil {
		t.Fatal(err)
	}
	p1, i1 := graphSummary(g)
	p2, i2 := graphSummary(g2)
	if p1 != p2 || i1 != i2 {
		t.Error("two resolutions of the same graph differ")
	}
}

// checkGraphInvariants checks what holds for every resolved graph: one
// version per id, direct references honoured exactly, and every
// unsatisfied dependency of a resolved package reported.
func checkGraphInvariants(t *testing.T, g *Graph, direct []Dependency) {
	t.Helper()
	chosen := map[string]nuget.Version{}
	for _, p := range g.Packages {
		k := strings.ToLower(p.ID)
		if _, dup := chosen[k]; dup {
			t.Errorf("%s resolved twice", p.ID)
		}
		chosen[k] = p.Version
	}
	for _, d := range direct {
		v, ok := chosen[strings.ToLower(d.ID)]
		if !ok {
			continue
		}
		if best, _ := d.Range.FindBest([]nuget.Version{v}); !d.Range.Satisfies(v) || !best.Equal(v) {
			t.Errorf("direct %s %s resolved to %s", d.ID, d.Range, v)
		}
	}
	reported := map[string]bool{}
	for _, i := range g.Issues {
		reported[strings.ToLower(i.ID)] = true
	}
	ids := make([]string, 0, len(g.Packages))
	for _, p := range g.Packages {
		for _, d := range p.Dependencies {
			k := strings.ToLower(d.ID)
			if v, ok := chosen[k]; ok && !d.Range.Satisfies(v) && !reported[k] {
				ids = append(ids, fmt.Sprintf("%s %s needs %s %s, got %s", p.ID, p.Version, d.ID, d.Range, v))
			}
		}
	}
	sort.Strings(ids)
	for _, s := range ids {
		t.Errorf("unreported: %s", s)
	}
}

func TestRandomGraphs(t *testing.T) {
	for seed := int64(2); seed < 40; seed++ {
		src, direct := generatedGraph(t, 60, seed)
		g, err := Resolve(context.Background(), src, net80, direct)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkGraphInvariants(t, g, direct)
	}
}

func BenchmarkResolve300(b *testing.B) {
	src, direct := generatedGraph(b, 300, 1)
	for b.Loop() {
		if _, err := Resolve(context.Background(), src, net80, direct); err != nil {
			b.Fatal(err)
		}
	}
}
