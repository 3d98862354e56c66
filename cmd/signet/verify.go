package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/internal/revocation"
	"github.com/signet-nuget/signet/internal/trust"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

func init() {
	register(&command{name: "verify", summary: "verify package signatures (like dotnet nuget verify)", run: runVerify})
}

func runVerify(ctx context.Context, e *env, args []string) int {
	var (
		all, offline, asJSON  bool
		fingerprints, bundles stringList
		revBundles            stringList
		verb, configFile      string
	)
	f := newFlagSet("verify", "signet verify <package>... [--all] [--certificate-fingerprint <sha256>]... [--trust-bundle <pem>]... [--offline] [-v quiet|normal|detailed] [--json]", e.stderr)
	f.BoolVar(&all, "all", false, "run all verifications (signatures are the only kind)")
	f.Var(&fingerprints, "certificate-fingerprint", "SHA-256 fingerprint the primary signing certificate must have; repeatable")
	f.Var(&bundles, "trust-bundle", "PEM file of extra trusted roots (code signing and timestamping); repeatable")
	f.BoolVar(&offline, "offline", false, "do not fetch revocation information (use caches and --revocation-bundle); unknown revocation is not a warning")
	f.Var(&revBundles, "revocation-bundle", "PEM file of CRLs and OCSP responses for air-gapped verification; repeatable")
	f.StringVar(&configFile, "configfile", "", "nuget.config with trust policies")
	f.StringVar(&verb, "verbosity", "normal", "quiet, minimal, normal, detailed or diagnostic")
	f.alias("v", "verbosity")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	pkgs, code := f.parse(args)
	if code != nil {
		return *code
	}
	v, err := parseVerbosity(verb)
	if err != nil {
		printError(e.stderr, err)
		return 2
	}
	if len(pkgs) == 0 {
		printError(e.stderr, fmt.Errorf("no package given"), "usage: signet verify <package>... [options]")
		return 2
	}
	cfg, err := loadConfig(e, configFile)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	pol := cfg.Policy()
	cs, ts, warning, err := loadRoots(append(cfg.TrustBundles(), bundles...))
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	if warning != "" && !asJSON {
		printWarning(e.stderr, warning)
	}
	if v >= detailed && !asJSON {
		for _, b := range []struct {
			what string
			b    *pki.Bundle
		}{{"code-signing", cs}, {"timestamping", ts}} {
			fmt.Fprintf(e.stdout, "Trusted %s roots: %d from %s", b.what, len(b.b.Certificates), strings.Join(b.b.Sources, ", "))
			if b.b.Skipped > 0 {
				fmt.Fprintf(e.stdout, " (%d skipped: not parseable by Go, e.g. negative serial numbers)", b.b.Skipped)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	if !asJSON {
		for _, w := range cfg.Warnings() {
			printWarning(e.stderr, w)
		}
		for _, w := range pol.Warnings {
			printWarning(e.stderr, w.String())
		}
	}
	o := nusig.VerifyCommandOptions()
	o.Roots, o.TimestampRoots = cs.Certificates, ts.Certificates
	cfg.Configure(&o)
	if offline {
		o.OfflineRevocation = true
	}
	rc, err := revocationChecker(o.OfflineRevocation, revBundles)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	o.Revocation = rc

	var reports []jsonPackage
	failed := 0
	paths := expandPackages(pkgs)
	bar := newProgress(e.stderr, len(paths))
	for _, p := range paths {
		r, err := verifyFile(ctx, p, o)
		bar.clear()
		if err != nil {
			failed++
			if asJSON {
				reports = append(reports, jsonPackage{Path: p, Error: err.Error()})
			} else {
				printError(e.stderr, fmt.Errorf("%q is not a valid package file: %w", p, err))
			}
			bar.step(filepath.Base(p))
			continue
		}
		pol.Apply(r, o)
		if len(fingerprints) > 0 && r.Primary != nil {
			allowListCheck(r, fingerprints)
		}
		if !r.Valid() {
			failed++
		}
		if asJSON {
			reports = append(reports, toJSON(p, r))
		} else {
			printResult(e.stdout, p, r, v)
		}
		bar.step(filepath.Base(p))
	}
	bar.clear()
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(reports)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// allowListCheck is the verify command's --certificate-fingerprint provider
// (spec 5.1): the primary signing certificate's SHA-256 fingerprint must be
// one of the given ones (NU3034).
func allowListCheck(r *nusig.Result, fps []string) {
	got := nusig.Fingerprint(r.Primary.Certificate)
	for _, f := range fps {
		if strings.EqualFold(strings.ReplaceAll(f, ":", ""), got) {
			return
		}
	}
	r.Issues = append(r.Issues, nusig.Issue{Code: nusig.NU3034, Severity: nusig.SeverityError,
		Message: fmt.Sprintf("The primary signature certificate fingerprint %s is not among the --certificate-fingerprint values", got), Reason: nusig.ReasonNotTrustedSigner})
	r.Status = nusig.StatusDisallowed
}

// revocationChecker returns the OCSP/CRL checker verify uses: responses are
// cached on disk under the user's cache directory until their nextUpdate;
// offline, only caches and bundles answer.
func revocationChecker(offline bool, bundles []string) (*revocation.Checker, error) {
	c := &revocation.Checker{Mode: revocation.Online}
	if offline {
		c.Mode = revocation.Offline
	}
	if d, err := os.UserCacheDir(); err == nil {
		c.CacheDir = filepath.Join(d, "signet", "revocation")
	}
	for _, p := range bundles {
		b, err := revocation.ReadBundle(p)
		if err != nil {
			return nil, err
		}
		c.Bundles = append(c.Bundles, b)
	}
	return c, nil
}

// loadConfig reads the nuget.config files as NuGet finds them from the
// working directory, or only the one --configfile names.
func loadConfig(e *env, configFile string) (*trust.Config, error) {
	l := trust.Loader{Getenv: e.getenv}
	if configFile != "" {
		return l.LoadFile(configFile)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return l.Load(wd)
}

func expandPackages(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.ContainsAny(a, "*?[") {
			if m, _ := filepath.Glob(a); len(m) > 0 {
				out = append(out, m...)
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func verifyFile(ctx context.Context, path string, o nusig.VerifyOptions) (*nusig.Result, error) {
	f, p, err := openPackage(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return nusig.Verify(ctx, p, o), nil
}

// openPackage opens the package file at path; the caller closes the file.
func openPackage(path string) (*os.File, *nupkg.Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	p, err := nupkg.Open(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, p, nil
}

// printResult prints one package's verification as dotnet nuget verify does
// (spec 6.2).
func printResult(w io.Writer, path string, r *nusig.Result, v verbosity) {
	fmt.Fprintf(w, "Verifying %s\n", strings.TrimSuffix(filepath.Base(path), ".nupkg"))
	if v >= normal {
		abs, _ := filepath.Abs(path)
		fmt.Fprintln(w, abs)
		if r.ContentHash != 0 {
			fmt.Fprintf(w, "Signature Hash Algorithm: %s\n", hashName(r.ContentHash))
		}
	}
	for _, s := range []*nusig.SignatureResult{r.Primary, r.Countersignature} {
		if s == nil || s.Certificate == nil {
			continue
		}
		fmt.Fprintln(w)
		if s.Type != nusig.TypeUnknown {
			fmt.Fprintf(w, "Signature type: %s\n", s.Type)
		}
		if s.Repository != nil {
			fmt.Fprintf(w, "Service index: %s\n", s.Repository.ServiceIndexURL)
			if len(s.Repository.Owners) > 0 {
				fmt.Fprintf(w, "Owners: %s\n", strings.Join(s.Repository.Owners, ", "))
			}
		}
		if v >= normal {
			fmt.Fprintf(w, "Verifying the %s with certificate:\n", s.Name())
		}
		printCertificateV(w, "  ", s.Certificate, v)
		if v >= detailed {
			printChain(w, s.Chain)
		}
		if len(s.Chain) > 0 && v >= normal {
			root := s.Chain[len(s.Chain)-1]
			state := "trusted"
			if !s.ChainTrusted {
				state = "not trusted"
			}
			fmt.Fprintf(w, "  Chain ends at root: %s (%s)\n", root.Subject, state)
		}
		if ts := s.Timestamp(); ts != nil && v >= normal {
			fmt.Fprintf(w, "Timestamp: %s\n", ts.GenTime.Local().Format(time.DateTime))
			if ts.Certificate != nil {
				fmt.Fprintf(w, "Verifying %s's timestamp with timestamping service certificate:\n", s.Name())
				printCertificateV(w, "  ", ts.Certificate, v)
				if v >= detailed {
					printChain(w, ts.Chain)
				}
				if len(ts.Chain) > 0 {
					state := "trusted"
					if !ts.ChainTrusted {
						state = "not trusted"
					}
					fmt.Fprintf(w, "  Chain ends at root: %s (%s)\n", ts.Chain[len(ts.Chain)-1].Subject, state)
				}
			}
		}
	}
	errs, warns := r.Counts()
	if errs+warns > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Finished with %d errors and %d warnings.\n", errs, warns)
	}
	for _, is := range r.AllIssues() {
		switch {
		case is.Severity == nusig.SeverityError:
			fmt.Fprintf(w, "error: %s: %s\n", is.Code, is.Message)
		case is.Severity == nusig.SeverityWarning:
			fmt.Fprintf(w, "warn : %s: %s\n", is.Code, is.Message)
		case v >= detailed:
			fmt.Fprintf(w, "info : %s: %s\n", is.Code, is.Message)
		default:
			continue
		}
		if is.Detail != "" && v >= detailed {
			fmt.Fprintf(w, "       %s\n", is.Detail)
		}
	}
	fmt.Fprintln(w)
	if r.Valid() {
		if v >= normal {
			fmt.Fprintf(w, "Successfully verified package '%s'.\n", strings.TrimSuffix(filepath.Base(path), ".nupkg"))
		}
	} else {
		fmt.Fprintln(w, "Package signature validation failed.")
	}
}
