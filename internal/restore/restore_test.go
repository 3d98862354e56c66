package restore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/client/testfeed"
	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/restore/gpf"
	"github.com/signet-nuget/signet/internal/restore/resolve"
	"github.com/signet-nuget/signet/nupkg"
)

func push(t *testing.T, f *testfeed.Feed, specs ...nupkgtest.Spec) {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		b := nupkgtest.Bytes(t, s)
		if _, err := c.Push(context.Background(), bytes.NewReader(b), int64(len(b)), f.Key, client.PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func feeds(t *testing.T, fs ...*testfeed.Feed) *Feeds {
	t.Helper()
	out := &Feeds{}
	for _, f := range fs {
		c, err := client.New(f.IndexURL, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out.Clients = append(out.Clients, c)
	}
	return out
}

func version(t *testing.T, s string) nuget.Version {
	v, err := nuget.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFeedsUnion: versions are the union of the feeds'; a version's
// manifest and package come from the first feed that has it, as NuGet
// reads sources in order.
func TestFeedsUnion(t *testing.T) {
	a, b := testfeed.Start(t), testfeed.Start(t)
	push(t, a, nupkgtest.Spec{ID: "Shared", Version: "1.0.0", Description: "from A",
		Dependencies: map[string][]nupkgtest.Dependency{"net8.0": {{ID: "Dep", Version: "[1.0, 2.0)"}}}})
	push(t, b, nupkgtest.Spec{ID: "Shared", Version: "1.0.0", Description: "from B"},
		nupkgtest.Spec{ID: "Shared", Version: "2.0.0", Description: "only in B"})
	f := feeds(t, a, b)
	vs, err := f.Versions(context.Background(), "shared")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"1.0.0", "2.0.0"}) {
		t.Fatalf("versions = %v", got)
	}
	groups, err := f.Dependencies(context.Background(), "Shared", version(t, "1.0.0"))
	if err != nil || len(groups) != 1 || groups[0].Dependencies[0].ID != "Dep" || groups[0].Dependencies[0].Range.String() != "[1.0.0, 2.0.0)" {
		t.Fatalf("dependencies of 1.0.0 (from A) = %+v, %v", groups, err)
	}
	if vs, err := f.Versions(context.Background(), "Nowhere"); err != nil || len(vs) != 0 {
		t.Fatalf("unknown id = %v, %v", vs, err)
	}

	root := t.TempDir()
	var verified []string
	out, err := f.Install(context.Background(), Options{Root: root, Verify: func(p *nupkg.Package) error {
		ns, _ := p.Nuspec()
		verified = append(verified, ns.Description)
		return nil
	}, Concurrency: 1}, []resolve.Package{{ID: "Shared", Version: version(t, "1.0.0")}, {ID: "Shared", Version: version(t, "2.0.0")}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(verified, "from A") || slices.Contains(verified, "from B") {
		t.Fatalf("installed manifests %v; 1.0.0 must come from the first feed", verified)
	}
	if out[0].Source != a.IndexURL || out[1].Source != b.IndexURL || !out[0].Installed {
		t.Fatalf("outcomes = %+v", out)
	}
}

// TestInstallRefused: a package its verification refuses is not installed
// and leaves nothing; the others are; the error names it.
func TestInstallRefused(t *testing.T) {
	a := testfeed.Start(t)
	push(t, a, nupkgtest.Spec{ID: "Good", Version: "1.0.0"}, nupkgtest.Spec{ID: "Bad", Version: "1.0.0"})
	f := feeds(t, a)
	for _, id := range []string{"Good", "Bad"} {
		if _, err := f.Versions(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	refusal := errors.New("NU3008: the package integrity check failed")
	var steps []Step
	out, err := f.Install(context.Background(), Options{Root: root,
		Verify: func(p *nupkg.Package) error {
			if ns, _ := p.Nuspec(); ns.ID == "Bad" {
				return refusal
			}
			return nil
		},
		Progress:    func(_ resolve.Package, s Step, _ error) { steps = append(steps, s) },
		Concurrency: 1,
	}, []resolve.Package{{ID: "Good", Version: version(t, "1.0.0")}, {ID: "Bad", Version: version(t, "1.0.0")}})
	if !errors.Is(err, refusal) || out[1].Err == nil || out[0].Err != nil {
		t.Fatalf("install = %+v, %v", out, err)
	}
	if !gpf.Exists(root, "good", "1.0.0") {
		t.Fatal("the good package is not installed")
	}
	if _, err := os.Stat(filepath.Join(root, "bad")); !os.IsNotExist(err) {
		t.Fatalf("the refused package left something: %v", err)
	}
	if !slices.Contains(steps, StepFailed) || !slices.Contains(steps, StepInstalled) {
		t.Fatalf("progress steps = %v", steps)
	}
	// A second install finds the good package in place.
	out, err = f.Install(context.Background(), Options{Root: root, Verify: func(*nupkg.Package) error { return nil }},
		[]resolve.Package{{ID: "Good", Version: version(t, "1.0.0")}})
	if err != nil || out[0].Installed || out[0].Dir == "" {
		t.Fatalf("second install = %+v, %v", out, err)
	}
	if _, err := f.Install(context.Background(), Options{Root: root}, nil); err == nil {
		t.Fatal("Install without a verification function succeeded")
	}
}
