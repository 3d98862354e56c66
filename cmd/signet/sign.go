package main

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/atomicfile"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/signer/pkcs11"
	"github.com/signet-nuget/signet/nusig"
)

func init() {
	register(&command{name: "sign", summary: "sign packages with an author signature (like dotnet nuget sign)", run: runSign})
	register(&command{name: "repository-sign", summary: "add a repository signature or countersignature", run: runRepositorySign})
}

// signFlags are the options sign and repository-sign share, named as
// dotnet nuget sign names them.
type signFlags struct {
	certPath, certPassword, keyPath string
	timestampers                    stringList
	hashAlg, tsHashAlg              string
	output                          string
	overwrite                       bool
	verbosity                       string
	timeout                         time.Duration
	trustBundles                    stringList
	allowUntrustedRoot              bool
	offline                         bool
	key                             string
	keyTimeout                      time.Duration
	fingerprint, subjectName        string
	storeName, storeLocation        string
}

func (s *signFlags) register(f *flagSet) {
	f.StringVar(&s.certPath, "certificate-path", "", "signing certificate: a PKCS#12 file (.pfx, .p12) or a PEM certificate chain")
	f.StringVar(&s.certPassword, "certificate-password", "", "password of the PKCS#12 file (SIGNET_CERTIFICATE_PASSWORD keeps it off the command line)")
	f.StringVar(&s.keyPath, "key-path", "", "PEM private key (PKCS#1 or PKCS#8) for a PEM certificate")
	f.StringVar(&s.fingerprint, "certificate-fingerprint", "", "find the certificate in a certificate store by its SHA-256 (or SHA-1, NU3043) fingerprint")
	f.StringVar(&s.subjectName, "certificate-subject-name", "", "find the certificate in a certificate store by a substring of its subject")
	f.StringVar(&s.storeName, "certificate-store-name", "My", "certificate store name")
	f.StringVar(&s.storeLocation, "certificate-store-location", "CurrentUser", "certificate store location: CurrentUser or LocalMachine")
	f.StringVar(&s.key, "key", "", "key held elsewhere: \"exec:<program> [args]\" runs a program that signs, \"pkcs11:<RFC 7512 URI>\" uses a key on a PKCS#11 token (see README); the certificate comes from --certificate-path (or, for pkcs11:, the token)")
	f.DurationVar(&s.keyTimeout, "key-timeout", signer.DefaultExecTimeout, "time allowed for one run of an external signer")
	f.Var(&s.timestampers, "timestamper", "RFC 3161 timestamp server URL; repeat to name fallbacks, tried in order")
	f.StringVar(&s.hashAlg, "hash-algorithm", "SHA256", "package hash and signature digest: SHA256, SHA384 or SHA512")
	f.StringVar(&s.tsHashAlg, "timestamp-hash-algorithm", "SHA256", "timestamp message-imprint hash: SHA256, SHA384 or SHA512")
	f.StringVar(&s.output, "output", "", "directory for the signed packages (default: sign in place)")
	f.alias("o", "output")
	f.BoolVar(&s.overwrite, "overwrite", false, "replace an existing signature")
	f.StringVar(&s.verbosity, "verbosity", "normal", "quiet, minimal, normal, detailed or diagnostic")
	f.alias("v", "verbosity")
	f.DurationVar(&s.timeout, "timestamp-timeout", 10*time.Second, "time allowed for one timestamp request")
	f.Var(&s.trustBundles, "trust-bundle", "PEM file of extra trusted code-signing roots for the pre-signing chain check; repeatable")
	f.BoolVar(&s.offline, "offline", false, "do not fetch revocation information for the signing certificate's chain (cached answers are used)")
	f.BoolVar(&s.allowUntrustedRoot, "allow-untrusted-root", false, "sign even when the certificate chains to an untrusted root (a warning, as nuget sign -AllowUntrustedRoot)")
}

func parseHash(s string) (crypto.Hash, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "SHA256":
		return crypto.SHA256, nil
	case "SHA384":
		return crypto.SHA384, nil
	case "SHA512":
		return crypto.SHA512, nil
	}
	return 0, &nusig.Error{Code: nusig.NU3001, Msg: fmt.Sprintf("hash algorithm %q is not supported: use SHA256, SHA384 or SHA512", s)}
}

func runSign(ctx context.Context, e *env, args []string) int {
	var s signFlags
	f := newFlagSet("sign", "signet sign <package>... --certificate-path <file> [--certificate-password <pw>] [--key-path <pem>] --timestamper <url> [options]", e.stderr)
	s.register(f)
	pkgs, code := f.parse(args)
	if code != nil {
		return *code
	}
	return signPackages(ctx, e, pkgs, &s, nusig.TypeAuthor, nil)
}

func runRepositorySign(ctx context.Context, e *env, args []string) int {
	var s signFlags
	var serviceIndex, owners string
	f := newFlagSet("repository-sign", "signet repository-sign <package>... --certificate-path <file> --timestamper <url> --service-index-url <url> [--owners \"a;b\"] [options]", e.stderr)
	s.register(f)
	f.StringVar(&serviceIndex, "service-index-url", "", "the feed's V3 service index URL (https), written into the signature")
	f.StringVar(&owners, "owners", "", "package owners to write into the signature, separated by ';'")
	pkgs, code := f.parse(args)
	if code != nil {
		return *code
	}
	if serviceIndex == "" {
		printError(e.stderr, fmt.Errorf("--service-index-url is required"))
		return 2
	}
	repo := &nusig.RepositoryInfo{ServiceIndexURL: serviceIndex}
	for _, o := range strings.Split(owners, ";") {
		if o = strings.TrimSpace(o); o != "" {
			repo.Owners = append(repo.Owners, o)
		}
	}
	return signPackages(ctx, e, pkgs, &s, nusig.TypeRepository, repo)
}

// signPackages signs each package in turn; a failed package does not stop
// the others, and any failure makes the exit code 1 (as dotnet does).
func signPackages(ctx context.Context, e *env, pkgs []string, s *signFlags, t nusig.Type, repo *nusig.RepositoryInfo) int {
	v, err := parseVerbosity(s.verbosity)
	if err != nil {
		printError(e.stderr, err)
		return 2
	}
	if len(pkgs) == 0 {
		printError(e.stderr, fmt.Errorf("no package given"), "usage: signet "+map[nusig.Type]string{nusig.TypeAuthor: "sign", nusig.TypeRepository: "repository-sign"}[t]+" <package>... --certificate-path <file> ...")
		return 2
	}
	storeFlags := s.fingerprint != "" || s.subjectName != "" || s.storeName != "My" || s.storeLocation != "CurrentUser"
	switch {
	case s.key != "" && (s.fingerprint != "" || s.subjectName != ""):
		printError(e.stderr, &nusig.Error{Code: nusig.NU3001, Msg: "--key cannot be combined with --certificate-fingerprint or --certificate-subject-name (a PKCS#11 token named by " + envPKCS11URI + " is searched by them)"})
		return 1
	case s.certPath == "" && s.fingerprint == "" && s.subjectName == "" && !strings.HasPrefix(s.key, pkcs11.Prefix):
		printError(e.stderr, &nusig.Error{Code: nusig.NU3001, Msg: "no certificate given: use --certificate-path, --certificate-fingerprint or --certificate-subject-name"})
		return 1
	case s.certPath != "" && storeFlags:
		printError(e.stderr, &nusig.Error{Code: nusig.NU3001, Msg: "--certificate-path cannot be combined with --certificate-fingerprint, --certificate-subject-name or the certificate store options"})
		return 1
	case s.fingerprint != "" && s.subjectName != "":
		printError(e.stderr, &nusig.Error{Code: nusig.NU3001, Msg: "--certificate-fingerprint and --certificate-subject-name cannot be combined"})
		return 1
	}
	if s.fingerprint != "" {
		isSHA1, err := signer.CheckFingerprint(s.fingerprint)
		if err != nil {
			printError(e.stderr, err)
			return 1
		}
		if isSHA1 {
			printWarning(e.stderr, "NU3043: a SHA-1 certificate fingerprint is insecure; use the SHA-256 fingerprint")
		}
	}
	h, err := parseHash(s.hashAlg)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	th, err := parseHash(s.tsHashAlg)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	pw := s.certPassword
	if pw == "" {
		pw = e.getenv("SIGNET_CERTIFICATE_PASSWORD")
	}
	var id *signer.Identity
	var token io.Closer
	if s.certPath == "" && s.key == "" {
		id, token, err = findStoreIdentity(e, s.storeName, s.storeLocation, signer.Selector{Fingerprint: s.fingerprint, SubjectName: s.subjectName})
	} else {
		id, token, err = loadKeyIdentity(e, s.key, s.certPath, s.keyPath, pw, s.keyTimeout)
	}
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer token.Close()
	roots, _, _, err := loadRoots(s.trustBundles)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	rc, err := revocationChecker(s.offline, nil)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	warnings, err := nusig.CheckSigningCertificate(id.Certificate, nusig.PrecheckOptions{
		Pool: id.Chain, Roots: roots.Certificates, AllowUntrustedRoot: s.allowUntrustedRoot,
		Revocation: rc, Context: ctx,
	})
	for _, w := range warnings {
		printWarning(e.stderr, w)
	}
	if err != nil {
		var hints []string
		if codeOf(err) == nusig.NU3018 {
			hints = append(hints, "if you trust the certificate's root, name it with --trust-bundle <root.pem>, or sign anyway with --allow-untrusted-root")
		}
		printError(e.stderr, err, hints...)
		return 1
	}
	opts := nusig.SignOptions{
		Signer:        id.Signer,
		Certificate:   id.Certificate,
		Chain:         id.Chain,
		Hash:          h,
		TimestampHash: th,
	}
	if len(s.timestampers) > 0 {
		opts.Timestamper = nusig.NewRFC3161Timestamper(s.timestampers, s.timeout)
	} else {
		printWarning(e.stderr, "NU3002: no --timestamper was given: the package will not be timestamped, and its signature stops being valid when the certificate expires")
	}
	if v >= normal {
		fmt.Fprintln(e.stdout, "Signing package(s) with certificate:")
		printCertificate(e.stdout, "  ", id.Certificate)
		if len(s.timestampers) > 0 {
			fmt.Fprintln(e.stdout, "Timestamping package(s) with:")
			for _, u := range s.timestampers {
				fmt.Fprintf(e.stdout, "  %s\n", u)
			}
		}
	}
	if s.output != "" {
		if err := os.MkdirAll(s.output, 0o755); err != nil {
			printError(e.stderr, fmt.Errorf("creating output directory: %w", err))
			return 1
		}
		if v >= normal {
			fmt.Fprintf(e.stdout, "Signed package(s) output path:\n  %s\n", s.output)
		}
	}
	failed := 0
	for _, p := range pkgs {
		out := p
		if s.output != "" {
			out = filepath.Join(s.output, filepath.Base(p))
		}
		req := nusig.Request{SignOptions: opts, Type: t, Repository: repo, Overwrite: s.overwrite}
		if err := signFile(ctx, p, out, req); err != nil {
			printError(e.stderr, fmt.Errorf("%s: %w", p, err))
			failed++
			continue
		}
		if v >= detailed {
			fmt.Fprintf(e.stdout, "Signed %s\n", out)
		}
	}
	if failed > 0 {
		return 1
	}
	if v >= normal {
		fmt.Fprintln(e.stdout, "Package(s) signed successfully.")
	}
	return 0
}

// signFile signs the package at in and writes it to out atomically: out is
// replaced only once the signed package is complete and synced, so a failure
// leaves both files as they were.
func signFile(ctx context.Context, in, out string, req nusig.Request) error {
	f, p, err := openPackage(in)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return atomicfile.Write(out, fi.Mode().Perm(), func(w io.Writer) error {
		return nusig.SignPackage(ctx, w, p, req)
	})
}
