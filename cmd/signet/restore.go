package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/restore"
	"github.com/signet-nuget/signet/internal/restore/project"
	"github.com/signet-nuget/signet/internal/restore/resolve"
	"github.com/signet-nuget/signet/internal/trust"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

func init() {
	register(&command{name: "install", summary: "install a package and its dependencies, verifying every signature first", run: runInstall})
}

// restoreFlags are the options install and restore share.
type restoreFlags struct {
	sources      stringList
	configFile   string
	packages     string
	trustBundles stringList
	asJSON       bool
	concurrency  int
}

func (r *restoreFlags) register(f *flagSet) {
	f.Var(&r.sources, "source", "package source (URL or nuget.config name) to use instead of nuget.config's; repeatable")
	f.alias("s", "source")
	f.StringVar(&r.configFile, "configfile", "", "nuget.config to read instead of those found from the working directory")
	f.StringVar(&r.packages, "packages", "", "global packages folder (default: NUGET_PACKAGES, nuget.config's globalPackagesFolder, ~/.nuget/packages)")
	f.Var(&r.trustBundles, "trust-bundle", "PEM file of extra trusted roots for signature verification; repeatable")
	f.BoolVar(&r.asJSON, "json", false, "print a JSON summary")
	f.IntVar(&r.concurrency, "concurrency", restore.DefaultConcurrency, "packages downloaded and verified at once")
}

// restoreRun is a prepared install or restore: the feeds, the folder and
// the verification the trust policy asks for.
type restoreRun struct {
	e      *env
	feeds  *restore.Feeds
	root   string
	verify func(*nupkg.Package) error
	flags  *restoreFlags
	warns  []string
}

// verificationOff is NuGet's switch for signature verification during
// restore on Linux and macOS.
const verificationOff = "DOTNET_NUGET_SIGNATURE_VERIFICATION"

func prepareRestore(ctx context.Context, e *env, rf *restoreFlags) (*restoreRun, error) {
	cfg, err := loadConfig(e, rf.configFile)
	if err != nil {
		return nil, err
	}
	run := &restoreRun{e: e, flags: rf, feeds: &restore.Feeds{}}
	run.warns = append(run.warns, cfg.Warnings()...)

	// Sources: --source (names or URLs) or nuget.config's enabled V3 ones.
	var sources []trust.PackageSource
	if len(rf.sources) > 0 {
		for _, s := range rf.sources {
			if ps, ok := cfg.FindSource(s); ok {
				sources = append(sources, ps)
			} else {
				sources = append(sources, trust.PackageSource{Name: s, Source: s, Enabled: true})
			}
		}
	} else {
		for _, ps := range cfg.PackageSources() {
			if ps.Enabled {
				sources = append(sources, ps)
			}
		}
	}
	if len(sources) == 0 {
		return nil, errors.New("no package source: give one with --source <url> or add it to nuget.config")
	}
	for _, ps := range sources {
		if !ps.IsHTTP() {
			run.warns = append(run.warns, fmt.Sprintf("source %q is not an http(s) feed; skipped (local folders are not supported yet)", ps.Source))
			continue
		}
		o := client.Options{ProtocolVersion: ps.ProtocolVersion}
		if cred, err := cfg.Credential(ps.Name); err != nil {
			return nil, err
		} else if cred != nil {
			o.Username, o.Password = cred.Username, cred.Password
		}
		c, err := client.New(ps.Source, o)
		if err != nil {
			return nil, err
		}
		run.feeds.Clients = append(run.feeds.Clients, c)
	}
	if len(run.feeds.Clients) == 0 {
		return nil, errors.New("no usable package source")
	}

	// The folder.
	if rf.packages != "" {
		run.root, err = filepath.Abs(rf.packages)
	} else if v := e.getenv("NUGET_PACKAGES"); v != "" {
		run.root, err = filepath.Abs(v)
	} else {
		run.root, err = cfg.GlobalPackagesFolder()
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(run.root, 0o755); err != nil {
		return nil, err
	}

	// Verification: the restore settings of the configured mode.
	if strings.EqualFold(e.getenv(verificationOff), "false") {
		run.warns = append(run.warns, verificationOff+"=false: package signatures are not verified")
		run.verify = func(*nupkg.Package) error { return nil }
		return run, nil
	}
	pol := cfg.Policy()
	for _, w := range pol.Warnings {
		run.warns = append(run.warns, w.String())
	}
	cs, ts, warning, err := loadRoots(append(cfg.TrustBundles(), rf.trustBundles...))
	if err != nil {
		return nil, err
	}
	if warning != "" {
		run.warns = append(run.warns, warning)
	}
	o := cfg.RestoreOptions()
	o.Roots, o.TimestampRoots = cs.Certificates, ts.Certificates
	rc, err := revocationChecker(o.OfflineRevocation, nil)
	if err != nil {
		return nil, err
	}
	o.Revocation = rc
	run.verify = func(p *nupkg.Package) error {
		r := nusig.Verify(ctx, p, o)
		pol.Apply(r, o)
		if r.Valid() {
			return nil
		}
		return verificationError(r)
	}
	return run, nil
}

// verificationError names a package's first verification error with its
// NU code, as NuGet's restore reports it.
func verificationError(r *nusig.Result) error {
	for _, i := range r.AllIssues() {
		if i.Severity == nusig.SeverityError {
			return &nusig.Error{Code: i.Code, Msg: "package signature validation failed: " + strings.TrimSuffix(i.Message, ".")}
		}
	}
	return &nusig.Error{Code: nusig.NU3000, Msg: "package signature validation failed"}
}

// installPackages installs the resolved packages with a progress bar and
// prints the outcome; it returns the exit code.
func (run *restoreRun) installPackages(ctx context.Context, res *resolve.Result, started time.Time) int {
	e := run.e
	bar := newProgress(e.stderr, len(res.Packages))
	var mu sync.Mutex
	outcomes, err := run.feeds.Install(ctx, restore.Options{
		Root: run.root, Verify: run.verify, Concurrency: run.flags.concurrency,
		Progress: func(p resolve.Package, s restore.Step, _ error) {
			if s == restore.StepDownloaded {
				return
			}
			mu.Lock()
			bar.step(p.ID + " " + p.Version.String())
			mu.Unlock()
		},
	}, res.Packages)
	bar.clear()
	var issues []resolve.Issue
	for _, g := range res.Graphs {
		issues = append(issues, g.Issues...)
	}
	failed := err != nil || res.HasErrors(resolve.DefaultWarningsAsErrors...)
	if run.flags.asJSON {
		printRestoreJSON(e.stdout, run.root, outcomes, issues, !failed, time.Since(started))
	} else {
		for _, o := range restore.Sorted(outcomes) {
			switch {
			case o.Err != nil:
			case o.Installed:
				fmt.Fprintf(e.stdout, "  Installed %s %s from %s.\n", o.ID, o.Version, o.Source)
			default:
				fmt.Fprintf(e.stdout, "  %s %s is in the packages folder already.\n", o.ID, o.Version)
			}
		}
		for _, o := range outcomes {
			if o.Err != nil {
				printError(e.stderr, o.Err)
			}
		}
		if !failed {
			fmt.Fprintf(e.stdout, "Restored %d packages into %s in %s.\n", len(outcomes), run.root, time.Since(started).Round(time.Millisecond))
		}
	}
	if failed {
		return 1
	}
	return 0
}

// printIssues prints a resolution's issues as NuGet does: errors and
// warnings with their codes.
func (run *restoreRun) printIssues(res *resolve.Result) {
	if run.flags.asJSON {
		return
	}
	seen := map[string]bool{}
	for _, g := range res.Graphs {
		for _, i := range g.Issues {
			line := i.Code + ": " + i.Message
			if seen[line] {
				continue
			}
			seen[line] = true
			asError := i.Severity == resolve.SeverityError
			for _, c := range resolve.DefaultWarningsAsErrors {
				asError = asError || c == i.Code
			}
			if asError {
				fmt.Fprintf(run.e.stderr, "signet: error: %s\n", line)
			} else {
				fmt.Fprintf(run.e.stderr, "signet: warning: %s\n", line)
			}
		}
	}
}

type jsonRestore struct {
	Succeeded bool               `json:"succeeded"`
	Folder    string             `json:"packagesFolder"`
	Seconds   float64            `json:"seconds"`
	Packages  []jsonInstalled    `json:"packages"`
	Issues    []jsonRestoreIssue `json:"issues"`
}

type jsonInstalled struct {
	ID        string `json:"id"`
	Version   string `json:"version"`
	Source    string `json:"source,omitempty"`
	Installed bool   `json:"installed"`
	Dir       string `json:"dir,omitempty"`
	Error     string `json:"error,omitempty"`
}

type jsonRestoreIssue struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	ID       string `json:"id"`
	Message  string `json:"message"`
}

func printRestoreJSON(w io.Writer, root string, outcomes []restore.Outcome, issues []resolve.Issue, ok bool, d time.Duration) {
	out := jsonRestore{Succeeded: ok, Folder: root, Seconds: d.Seconds(), Packages: []jsonInstalled{}, Issues: []jsonRestoreIssue{}}
	for _, o := range restore.Sorted(outcomes) {
		j := jsonInstalled{ID: o.ID, Version: o.Version, Source: o.Source, Installed: o.Installed, Dir: o.Dir}
		if o.Err != nil {
			j.Error = o.Err.Error()
		}
		out.Packages = append(out.Packages, j)
	}
	for _, i := range issues {
		out.Issues = append(out.Issues, jsonRestoreIssue{Code: i.Code, Severity: i.Severity.String(), ID: i.ID, Message: i.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func runInstall(ctx context.Context, e *env, args []string) int {
	var rf restoreFlags
	var version, framework, output string
	f := newFlagSet("install", "signet install <id> [--version <version-or-range>] [-s|--source <url>]... [--framework <tfm>] [-o|--output <dir>]", e.stderr)
	rf.register(f)
	f.StringVar(&version, "version", "", "version or version range (default: the latest stable version, \"*\")")
	f.StringVar(&framework, "framework", "any", "target framework whose dependency groups to follow (net8.0, netstandard2.0, …)")
	f.StringVar(&output, "output", "", "folder to install into (the global packages folder layout); default: the global packages folder")
	f.alias("o", "output")
	pos, code := f.parse(args)
	if code != nil {
		return *code
	}
	if len(pos) != 1 {
		printError(e.stderr, errors.New("give one package id"), "usage: signet install <id> [--version <version>]")
		return 2
	}
	if output != "" {
		rf.packages = output
	}
	started := time.Now()
	if version == "" {
		version = "*"
	}
	r, err := nuget.ParseRange(version)
	if err != nil {
		printError(e.stderr, fmt.Errorf("--version: %w", err))
		return 2
	}
	fw, err := nuget.ParseFramework(framework)
	if err != nil {
		printError(e.stderr, fmt.Errorf("--framework: %w", err))
		return 2
	}
	run, err := prepareRestore(ctx, e, &rf)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	for _, w := range run.warns {
		printWarning(e.stderr, w)
	}
	res, err := (&resolve.Resolver{Source: run.feeds, ProjectName: pos[0]}).ResolveAll(ctx,
		[]resolve.Target{{Framework: fw, Dependencies: []resolve.Dependency{{ID: pos[0], Range: r}}}})
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	run.printIssues(res)
	return run.installPackages(ctx, res, started)
}

func init() {
	register(&command{name: "restore", summary: "restore a project's packages (PackageReference or packages.config), verifying every signature first", run: runRestore})
}

func runRestore(ctx context.Context, e *env, args []string) int {
	var rf restoreFlags
	f := newFlagSet("restore", "signet restore [<project file | packages.config | directory>] [-s|--source <url>]... [--packages <dir>] [--configfile <file>] [--json]", e.stderr)
	rf.register(f)
	pos, code := f.parse(args)
	if code != nil {
		return *code
	}
	if len(pos) > 1 {
		printError(e.stderr, errors.New("give at most one project"), "usage: signet restore [<project file | packages.config | directory>]")
		return 2
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	started := time.Now()
	kind, file, err := project.Locate(path)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	var targets []resolve.Target
	var pinned *project.PackagesConfig
	name := filepath.Base(file)
	switch kind {
	case project.KindProject:
		p, err := project.ReadProject(file)
		if err != nil {
			printError(e.stderr, err)
			return 1
		}
		for _, w := range p.Warnings {
			printWarning(e.stderr, w)
		}
		targets = p.Targets()
		name = strings.TrimSuffix(name, filepath.Ext(name))
	case project.KindPackagesConfig:
		if pinned, err = project.ReadPackagesConfig(file); err != nil {
			printError(e.stderr, err)
			return 1
		}
	}
	if !rf.asJSON {
		fmt.Fprintf(e.stdout, "Restoring packages for %s...\n", file)
	}
	run, err := prepareRestore(ctx, e, &rf)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	for _, w := range run.warns {
		printWarning(e.stderr, w)
	}
	var res *resolve.Result
	if pinned != nil {
		res, err = run.pinnedPackages(ctx, pinned)
	} else {
		res, err = (&resolve.Resolver{Source: run.feeds, ProjectName: name}).ResolveAll(ctx, targets)
	}
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	run.printIssues(res)
	if res.HasErrors(resolve.DefaultWarningsAsErrors...) {
		// NuGet downloads nothing for a graph with errors.
		if rf.asJSON {
			var issues []resolve.Issue
			for _, g := range res.Graphs {
				issues = append(issues, g.Issues...)
			}
			printRestoreJSON(e.stdout, run.root, nil, issues, false, time.Since(started))
		}
		return 1
	}
	return run.installPackages(ctx, res, started)
}

// pinnedPackages is a packages.config restore: exactly the packages listed,
// no resolution; a package no source has is NU1101, a version none has
// NU1102.
func (run *restoreRun) pinnedPackages(ctx context.Context, pc *project.PackagesConfig) (*resolve.Result, error) {
	g := &resolve.Graph{}
	res := &resolve.Result{Graphs: []*resolve.Graph{g}}
	for _, p := range pc.Packages {
		vs, err := run.feeds.Versions(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		found := false
		for _, v := range vs {
			if v.Equal(p.Version) {
				found = true
			}
		}
		switch {
		case len(vs) == 0:
			g.Issues = append(g.Issues, resolve.Issue{Code: "NU1101", ID: p.ID,
				Message: fmt.Sprintf("Unable to find package %s. No packages exist with this id in the sources.", p.ID)})
		case !found:
			g.Issues = append(g.Issues, resolve.Issue{Code: "NU1102", ID: p.ID,
				Message: fmt.Sprintf("Unable to find package %s with version %s.", p.ID, p.Version)})
		default:
			pkg := resolve.Package{ID: p.ID, Version: p.Version}
			g.Packages = append(g.Packages, pkg)
			res.Packages = append(res.Packages, pkg)
		}
	}
	return res, nil
}
