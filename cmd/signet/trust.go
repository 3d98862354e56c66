package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/trust"
	"github.com/signet-nuget/signet/nusig"
)

func init() {
	register(&command{name: "trust", summary: "list and edit trusted signers in nuget.config (like dotnet nuget trust)", run: runTrust})
}

// trustHTTPClient fetches service indexes for trust source and trust sync.
// Tests replace it with a client of their TLS server.
var trustHTTPClient = &http.Client{Timeout: 30 * time.Second}

const trustUsage = `Usage: signet trust [list] [--configfile <file>] [-v <level>]
       signet trust author <NAME> <PACKAGE> [--allow-untrusted-root]
       signet trust repository <NAME> <PACKAGE> [--allow-untrusted-root] [--owners <a;b>]
       signet trust certificate <NAME> <FINGERPRINT> [--algorithm SHA256|SHA384|SHA512] [--allow-untrusted-root]
       signet trust source <NAME> [--source-url <url>] [--owners <a;b>]
       signet trust sync <NAME>
       signet trust remove <NAME>

Every subcommand takes --configfile <file> (use only that file) and -v.
Without --configfile the nuget.config files that apply to the current
directory are merged as NuGet merges them, and changes go to the closest
one (the user config ~/.nuget/NuGet/NuGet.Config when there is none).
`

// trustCmd holds what every trust subcommand shares.
type trustCmd struct {
	e          *env
	configFile string
	verb       string
	v          verbosity
}

func (t *trustCmd) flags(name, usage string) *flagSet {
	f := newFlagSet("trust "+name, usage, t.e.stderr)
	f.StringVar(&t.configFile, "configfile", "", "the nuget.config to read and change; no other file is read")
	f.StringVar(&t.verb, "verbosity", "minimal", "quiet, minimal, normal, detailed or diagnostic")
	f.alias("v", "verbosity")
	return f
}

// parse parses the subcommand's arguments and wants exactly n positional
// ones, named in what.
func (t *trustCmd) parse(f *flagSet, args []string, what ...string) ([]string, *int) {
	pos, code := f.parse(args)
	if code != nil {
		return nil, code
	}
	v, err := parseVerbosity(t.verb)
	if err != nil {
		printError(t.e.stderr, err)
		return nil, exitCode(2)
	}
	t.v = v
	if len(pos) != len(what) {
		printError(t.e.stderr, fmt.Errorf("want %d arguments (%s), got %d", len(what), strings.Join(what, ", "), len(pos)), "usage: "+f.usageLine)
		return nil, exitCode(2)
	}
	return pos, nil
}

// load reads the configuration and reports what it ignored.
func (t *trustCmd) load() (*trust.Config, error) {
	var (
		c   *trust.Config
		err error
	)
	l := trust.Loader{Getenv: t.e.getenv}
	if t.configFile != "" {
		c, err = l.LoadFile(t.configFile)
	} else {
		var wd string
		if wd, err = os.Getwd(); err == nil {
			c, err = l.Load(wd)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range c.Warnings() {
		printWarning(t.e.stderr, w)
	}
	return c, nil
}

// save writes the change and confirms it with dotnet's message.
func (t *trustCmd) save(c *trust.Config, format string, args ...any) int {
	if err := c.Save(); err != nil {
		printError(t.e.stderr, err)
		return 1
	}
	fmt.Fprintf(t.e.stdout, format+"\n", args...)
	if t.v >= detailed {
		fmt.Fprintf(t.e.stdout, "Written to %s\n", c.WritePath())
	}
	return 0
}

// fail prints an error of the trust package in dotnet's words where dotnet
// has them, and returns the exit code.
func (t *trustCmd) fail(err error) int {
	var (
		ee *trust.ExistsError
		ro *trust.ReadOnlyError
	)
	switch {
	case errors.As(err, &ee) && ee.ServiceIndex != "":
		printError(t.e.stderr, fmt.Errorf("A trusted repository with the service index '%s' already exists.", ee.ServiceIndex), "it is defined in "+ee.File)
	case errors.As(err, &ee):
		printError(t.e.stderr, fmt.Errorf("A trusted signer '%s' already exists.", ee.Name),
			fmt.Sprintf("it is defined in %s; remove it first with 'signet trust remove %s', or add a certificate to it with 'signet trust certificate'", ee.File, ee.Name))
	case errors.As(err, &ro) && ro.File != "":
		printError(t.e.stderr, err, "machine-wide and additional user configs are not edited; change the file by hand or override the entry in a closer nuget.config")
	default:
		printError(t.e.stderr, err)
	}
	return 1
}

func runTrust(ctx context.Context, e *env, args []string) int {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	t := &trustCmd{e: e}
	switch sub {
	case "list":
		return t.list(args)
	case "author", "repository":
		return t.fromPackage(ctx, sub, args)
	case "certificate":
		return t.certificate(args)
	case "remove":
		return t.remove(args)
	case "source":
		return t.source(ctx, args)
	case "sync":
		return t.sync(ctx, args)
	case "help":
		fmt.Fprint(e.stderr, trustUsage)
		return 0
	}
	printError(e.stderr, fmt.Errorf("unknown trust subcommand %q", sub))
	fmt.Fprint(e.stderr, trustUsage)
	return 2
}

// list prints the trusted signers as dotnet nuget trust list does.
func (t *trustCmd) list(args []string) int {
	f := t.flags("list", "signet trust [list] [--configfile <file>] [-v <level>]")
	if _, code := t.parse(f, args); code != nil {
		return *code
	}
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	for _, w := range c.Policy().Warnings {
		printWarning(t.e.stderr, fmt.Sprintf("%s: %s", w.Code, w.Message))
	}
	w := t.e.stdout
	if t.v >= detailed {
		fmt.Fprintln(w, "Config files (closest first):")
		for _, p := range c.Files() {
			fmt.Fprintf(w, "  %s\n", p)
		}
		fmt.Fprintf(w, "signatureValidationMode: %s\n\n", c.SignatureValidationMode())
	}
	signers := c.TrustedSigners()
	if len(signers) == 0 {
		fmt.Fprintln(w, "There are no trusted signers.")
		return 0
	}
	fmt.Fprintln(w, "Registered trusted signers:")
	fmt.Fprintln(w)
	const pad = "      "
	for i, s := range signers {
		fmt.Fprintf(w, "%-6s%s [%s]\n", fmt.Sprintf(" %d.", i+1), s.Name, s.Kind)
		if s.Kind == trust.KindRepository {
			fmt.Fprintf(w, "%sService Index: %s\n", pad, s.ServiceIndex)
			if len(s.Owners) > 0 {
				fmt.Fprintf(w, "%sTrusted owners: %s\n", pad, strings.Join(s.Owners, "; "))
			}
		}
		if len(s.Certificates) > 0 {
			fmt.Fprintf(w, "%sCertificate fingerprint(s):\n", pad)
			for _, ce := range s.Certificates {
				u := ""
				if ce.AllowUntrustedRoot {
					u = "[U] "
				}
				fmt.Fprintf(w, "%s  %s%s - %s\n", pad, u, ce.HashAlgorithm, ce.Fingerprint)
			}
		}
		if len(s.Identities) > 0 {
			fmt.Fprintf(w, "%sCertificate identities (Signet):\n", pad)
			for _, id := range s.Identities {
				fmt.Fprintf(w, "%s  %s\n", pad, id)
			}
		}
		if t.v >= detailed {
			fmt.Fprintf(w, "%sDefined in: %s:%d\n", pad, s.File, s.Line)
		}
		fmt.Fprintln(w)
	}
	return 0
}

// fromPackage trusts the author signature (author) or the repository
// signature or countersignature (repository) of a signed package.
func (t *trustCmd) fromPackage(ctx context.Context, kind string, args []string) int {
	var (
		allowUntrusted bool
		owners         stringList
	)
	usage := "signet trust author <NAME> <PACKAGE> [--allow-untrusted-root] [--configfile <file>]"
	if kind == "repository" {
		usage = "signet trust repository <NAME> <PACKAGE> [--allow-untrusted-root] [--owners <a;b>] [--configfile <file>]"
	}
	f := t.flags(kind, usage)
	f.BoolVar(&allowUntrusted, "allow-untrusted-root", false, "trust the certificate even if its chain ends at an untrusted root")
	if kind == "repository" {
		f.Var(&owners, "owners", "';'-separated owners to trust (the package's nuget-package-owners must name one); repeatable")
	}
	pos, code := t.parse(f, args, "NAME", "PACKAGE")
	if code != nil {
		return *code
	}
	name := pos[0]
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	if err := c.CanAdd(name, ""); err != nil {
		return t.fail(err)
	}
	r, err := readSignatures(ctx, pos[1])
	if err != nil {
		return t.fail(err)
	}
	if !r.Signed {
		return t.fail(errors.New("The package is not signed."))
	}
	if r.Primary == nil {
		return t.fail(fmt.Errorf("the package signature cannot be read: %v", r.AllIssues()))
	}
	if kind == "author" {
		if r.Primary.Type != nusig.TypeAuthor || r.Primary.Certificate == nil {
			return t.fail(fmt.Errorf("Unable to add trusted author. The package is not author signed (its primary signature is a %s); trust the repository that signed it with 'signet trust repository'", r.Primary.Name()))
		}
		if err := c.AddAuthor(name, nusig.Fingerprint(r.Primary.Certificate), "SHA256", allowUntrusted); err != nil {
			return t.fail(err)
		}
		return t.save(c, "Successfully added a trusted author '%s'.", name)
	}
	sig := r.Countersignature
	if r.Primary.Type == nusig.TypeRepository {
		sig = r.Primary
	}
	if sig == nil || sig.Certificate == nil || sig.Repository == nil {
		return t.fail(errors.New("Unable to add trusted repository. The package is not repository signed or countersigned."))
	}
	cert := trust.CertEntry{Fingerprint: nusig.Fingerprint(sig.Certificate), HashAlgorithm: "SHA256", AllowUntrustedRoot: allowUntrusted}
	if err := c.AddRepository(name, sig.Repository.ServiceIndexURL, []trust.CertEntry{cert}, splitOwners(owners)); err != nil {
		return t.fail(err)
	}
	return t.save(c, "Successfully added a trusted repository '%s'.", name)
}

// readSignatures reads a package's signatures. Verification is only a way
// to get them parsed: the accept-mode settings keep going past untrusted
// roots, and the countersignature is always read.
func readSignatures(ctx context.Context, path string) (*nusig.Result, error) {
	if strings.ContainsAny(path, "*?[") {
		m, _ := filepath.Glob(path)
		if len(m) != 1 {
			return nil, fmt.Errorf("%q matches %d packages; name exactly one", path, len(m))
		}
		path = m[0]
	}
	f, p, err := openPackage(path)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid package file: %w", path, err)
	}
	defer f.Close()
	o := nusig.AcceptModeOptions()
	o.Countersignatures = nusig.CountersignatureIfExists
	return nusig.Verify(ctx, p, o), nil
}

func splitOwners(list []string) []string {
	var out []string
	for _, l := range list {
		out = append(out, trust.ParseOwners(l)...)
	}
	return out
}

// certificate adds a fingerprint to a signer, or creates an author.
func (t *trustCmd) certificate(args []string) int {
	var (
		alg            string
		allowUntrusted bool
	)
	f := t.flags("certificate", "signet trust certificate <NAME> <FINGERPRINT> [--algorithm SHA256|SHA384|SHA512] [--allow-untrusted-root] [--configfile <file>]")
	f.StringVar(&alg, "algorithm", "SHA256", "hash algorithm of the fingerprint: SHA256, SHA384 or SHA512")
	f.BoolVar(&allowUntrusted, "allow-untrusted-root", false, "trust the certificate even if its chain ends at an untrusted root")
	pos, code := t.parse(f, args, "NAME", "FINGERPRINT")
	if code != nil {
		return *code
	}
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	fp := strings.NewReplacer(":", "", " ", "").Replace(pos[1])
	created, err := c.AddCertificate(pos[0], fp, alg, allowUntrusted)
	if err != nil {
		return t.fail(err)
	}
	if created {
		return t.save(c, "Successfully added a trusted author '%s'.", pos[0])
	}
	return t.save(c, "Successfully updated the trusted signer '%s'.", pos[0])
}

// remove removes the signers with a name.
func (t *trustCmd) remove(args []string) int {
	f := t.flags("remove", "signet trust remove <NAME> [--configfile <file>]")
	pos, code := t.parse(f, args, "NAME")
	if code != nil {
		return *code
	}
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	n, err := c.Remove(pos[0])
	if err != nil {
		return t.fail(err)
	}
	if n == 0 {
		fmt.Fprintf(t.e.stdout, "No trusted signers with the name: '%s' were found.\n", pos[0])
		return 0
	}
	return t.save(c, "Successfully removed the trusted signer '%s'.", pos[0])
}

// source trusts a repository with every certificate its service index
// publishes.
func (t *trustCmd) source(ctx context.Context, args []string) int {
	var (
		sourceURL string
		owners    stringList
	)
	f := t.flags("source", "signet trust source <NAME> [--source-url <url>] [--owners <a;b>] [--configfile <file>]")
	f.StringVar(&sourceURL, "source-url", "", "the source's service index URL (https); default: the package source named NAME")
	f.Var(&owners, "owners", "';'-separated owners to trust; repeatable")
	pos, code := t.parse(f, args, "NAME")
	if code != nil {
		return *code
	}
	name := pos[0]
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	if sourceURL == "" {
		u, ok := c.PackageSource(name)
		if !ok {
			printError(t.e.stderr, fmt.Errorf("there is no package source named %q", name), "give its service index with --source-url")
			return 1
		}
		sourceURL = u
	}
	if err := trust.ValidateServiceIndex(sourceURL); err != nil {
		return t.fail(err)
	}
	if err := c.CanAdd(name, sourceURL); err != nil {
		return t.fail(err)
	}
	info, err := trust.FetchRepositoryInfo(ctx, trustHTTPClient, sourceURL)
	if err != nil {
		return t.fail(err)
	}
	if err := c.AddRepository(name, sourceURL, info.Certificates, splitOwners(owners)); err != nil {
		return t.fail(err)
	}
	return t.save(c, "Successfully added a trusted repository '%s'.", name)
}

// sync replaces a repository's certificates with those its service index
// publishes now.
func (t *trustCmd) sync(ctx context.Context, args []string) int {
	f := t.flags("sync", "signet trust sync <NAME> [--configfile <file>]")
	pos, code := t.parse(f, args, "NAME")
	if code != nil {
		return *code
	}
	name := pos[0]
	c, err := t.load()
	if err != nil {
		return t.fail(err)
	}
	index := ""
	for _, s := range c.TrustedSigners() {
		if s.Kind == trust.KindRepository && s.Name == name {
			index = s.ServiceIndex
		}
	}
	if index == "" {
		printError(t.e.stderr, fmt.Errorf("A trusted repository '%s' does not exist.", name))
		return 1
	}
	info, err := trust.FetchRepositoryInfo(ctx, trustHTTPClient, index)
	if err != nil {
		return t.fail(err)
	}
	if err := c.SetCertificates(name, info.Certificates); err != nil {
		return t.fail(err)
	}
	return t.save(c, "Successfully synchronized the trusted repository '%s'.", name)
}
