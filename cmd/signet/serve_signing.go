package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/revocation"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/nusig"
)

// signingFlags are serve's options for signed submissions.
type signingFlags struct {
	enabled                      bool
	certPath, keyPath, password  string
	key                          string
	keyTimeout                   time.Duration
	timestampers                 stringList
	trustBundles                 stringList
	revocationMode               string
	keepForeignRepositorySigning bool
	previous                     stringList
}

func (s *signingFlags) register(f *flagSet, e *env) {
	f.BoolVar(&s.enabled, "signing", envOr(e, "SIGNET_SIGNING", "true") == "true", "validate signed pushes and repository-sign every package (SIGNET_SIGNING)")
	f.StringVar(&s.certPath, "repository-certificate-path", envOr(e, "SIGNET_REPOSITORY_CERTIFICATE_PATH", ""), "the feed's repository signing certificate (PKCS#12, or a PEM chain with --repository-key-path); default: a feed CA generated into <data>/pki on first start")
	f.StringVar(&s.keyPath, "repository-key-path", envOr(e, "SIGNET_REPOSITORY_KEY_PATH", ""), "PEM private key of a PEM repository certificate")
	f.StringVar(&s.key, "repository-key", envOr(e, "SIGNET_REPOSITORY_KEY", ""), "repository key held elsewhere: \"pkcs11:<URI>\" or \"exec:<program> [args]\" (see signet sign --key)")
	f.DurationVar(&s.keyTimeout, "repository-key-timeout", signer.DefaultExecTimeout, "time allowed for one run of an external signer")
	f.Var(&s.timestampers, "timestamper", "RFC 3161 timestamp authority for repository signatures (repeat for fallbacks); default: the built-in TSA with the generated feed CA")
	f.Var(&s.trustBundles, "trust-bundle", "PEM file of roots that author signatures may chain to, besides the platform's (repeatable)")
	f.StringVar(&s.revocationMode, "revocation-mode", envOr(e, "SIGNET_REVOCATION_MODE", "online"), "online (OCSP/CRL fetched) or offline (caches only) for author certificates")
	f.Var(&s.previous, "previous-repository-certificate", "an earlier repository certificate (PEM or DER) still listed in RepositorySignatures after a rotation (repeatable)")
	f.BoolVar(&s.keepForeignRepositorySigning, "keep-foreign-repository-signatures", false, "refuse packages repository-signed by another feed instead of re-signing them as this feed")
}

// setupSigning builds the feed's signing configuration. Without a
// repository certificate it makes (on first start) or reuses a feed CA in
// <data>/pki, signs with its repository certificate and timestamps with a
// built-in TSA on a loopback port; the CA's root is then trusted for
// author signatures too, so that its code-signing certificate can be used
// for trying the feed out. It returns a description for the banner and a
// function that stops what it started.
func setupSigning(ctx context.Context, e *env, s *signingFlags, dataDir string, logger *slog.Logger) (*feed.Signing, []string, func(), error) {
	stop := func() {}
	if !s.enabled {
		return nil, []string{"signing: off (--signing=false): packages are stored as pushed"}, stop, nil
	}
	codeRoots, tsRoots, _, err := loadRoots(s.trustBundles)
	if err != nil {
		return nil, nil, stop, err
	}
	g := &feed.Signing{
		Roots:                           codeRoots.Certificates,
		TimestampRoots:                  tsRoots.Certificates,
		KeepForeignRepositorySignatures: s.keepForeignRepositorySigning,
	}
	rc := &revocation.Checker{Mode: revocation.Online, CacheDir: filepath.Join(dataDir, "revocation-cache"), Logger: logger}
	switch s.revocationMode {
	case "online":
	case "offline":
		rc.Mode = revocation.Offline
	default:
		return nil, nil, stop, fmt.Errorf("--revocation-mode must be online or offline, not %q", s.revocationMode)
	}
	g.Revocation = rc
	g.Recheck = func() nusig.RevocationChecker {
		// Fresh answers for the re-checks: no memory of the push's.
		return &revocation.Checker{Mode: rc.Mode, Logger: logger}
	}

	var lines []string
	if s.certPath == "" && s.key == "" {
		dev, err := feedPKI(dataDir)
		if err != nil {
			return nil, nil, stop, err
		}
		g.Certificate, g.Chain, g.Signer = dev.repo.Certificate, dev.repo.Chain[1:], dev.repo.Signer
		g.Roots = append(g.Roots, dev.root)
		g.TimestampRoots = append(g.TimestampRoots, dev.root)
		lines = append(lines, fmt.Sprintf("repository signing: %s, issued by the feed CA in %s (trust %s to verify)",
			g.Certificate.Subject.String(), dev.dir, filepath.Join(dev.dir, devpki.FileRootPEM)))
		if dev.created {
			lines = append(lines, "  the feed CA was created now; "+filepath.Join(dev.dir, devpki.FileCodeSigningPFX)+" is an author certificate it issued, for trying signed pushes")
		}
		if len(s.timestampers) == 0 {
			url, stopTSA, err := startFeedTSA(ctx, dev, logger)
			if err != nil {
				return nil, nil, stop, err
			}
			stop = stopTSA
			s.timestampers = stringList{url}
			lines = append(lines, "timestamps: the built-in timestamp authority at "+url)
		}
	} else {
		if s.certPath == "" && !strings.HasPrefix(s.key, "pkcs11:") {
			return nil, nil, stop, errors.New("--repository-key needs --repository-certificate-path (except for a pkcs11: key whose token holds the certificate)")
		}
		if s.password == "" {
			s.password = e.getenv("SIGNET_REPOSITORY_CERTIFICATE_PASSWORD")
		}
		id, closer, err := loadKeyIdentity(e, s.key, s.certPath, s.keyPath, s.password, s.keyTimeout)
		if err != nil {
			return nil, nil, stop, fmt.Errorf("repository certificate: %w", err)
		}
		stop = func() { closer.Close() }
		warnings, err := nusig.CheckSigningCertificate(id.Certificate, nusig.PrecheckOptions{
			Pool: id.Chain, Roots: codeRoots.Certificates, Revocation: rc, Context: ctx,
		})
		if err != nil {
			stop()
			return nil, nil, func() {}, fmt.Errorf("repository certificate (name its root with --trust-bundle): %w", err)
		}
		for _, w := range warnings {
			logger.Warn("repository certificate", "warning", w)
		}
		g.Certificate, g.Signer = id.Certificate, id.Signer
		if len(id.Chain) > 1 {
			g.Chain = id.Chain[1:]
		}
		lines = append(lines, fmt.Sprintf("repository signing: %s (SHA-256 %s)", g.Certificate.Subject.String(), nusig.Fingerprint(g.Certificate)))
		if len(s.timestampers) == 0 {
			stop()
			return nil, nil, func() {}, errors.New("--timestamper is required with --repository-certificate-path: repository signatures must be timestamped")
		}
		lines = append(lines, "timestamps: "+strings.Join(s.timestampers, ", "))
	}
	for _, path := range s.previous {
		certs, err := readCertificates(path)
		if err != nil {
			stop()
			return nil, nil, func() {}, fmt.Errorf("--previous-repository-certificate: %w", err)
		}
		g.Previous = append(g.Previous, certs...)
		for _, c := range certs {
			lines = append(lines, fmt.Sprintf("  also listed (rotated): %s (SHA-256 %s)", c.Subject.String(), nusig.Fingerprint(c)))
		}
	}
	g.Timestamper = nusig.NewRFC3161Timestamper(s.timestampers, 30*time.Second)
	return g, lines, stop, nil
}

// devFeedPKI is the feed CA of the embedded default.
type devFeedPKI struct {
	dir     string
	created bool
	root    *x509.Certificate
	repo    *signer.Identity
	tsa     *signer.Identity
}

// feedPKI loads the feed CA from <data>/pki, making it on first start.
func feedPKI(dataDir string) (*devFeedPKI, error) {
	dir := filepath.Join(dataDir, "pki")
	d := &devFeedPKI{dir: dir}
	if _, err := os.Stat(filepath.Join(dir, devpki.FileRepositoryPFX)); errors.Is(err, os.ErrNotExist) {
		if _, err := devpki.WriteDevCerts(dir); err != nil {
			return nil, fmt.Errorf("making the feed CA: %w", err)
		}
		d.created = true
	}
	repo, err := signer.Load(filepath.Join(dir, devpki.FileRepositoryPFX), "", "")
	if err != nil {
		return nil, fmt.Errorf("feed CA: %w", err)
	}
	if len(repo.Chain) < 2 {
		return nil, fmt.Errorf("feed CA: %s holds no root", filepath.Join(dir, devpki.FileRepositoryPFX))
	}
	d.repo, d.root = repo, repo.Chain[len(repo.Chain)-1]
	if d.tsa, err = signer.Load(filepath.Join(dir, devpki.FileTimestampingPEM), filepath.Join(dir, devpki.FileTimestampingKey), ""); err != nil {
		return nil, fmt.Errorf("feed CA: %w", err)
	}
	return d, nil
}

// startFeedTSA runs the built-in timestamp authority on a loopback port.
func startFeedTSA(ctx context.Context, d *devFeedPKI, logger *slog.Logger) (string, func(), error) {
	serials, err := tsa.NewFileSerials(filepath.Join(d.dir, "tsa.serial"))
	if err != nil {
		return "", nil, err
	}
	srv := &tsa.Server{Certificate: d.tsa.Certificate, Chain: d.tsa.Chain[1:], Signer: d.tsa.Signer, Serials: serials, Logger: logger}
	if err := srv.Validate(); err != nil {
		serials.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		serials.Close()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		hs.Shutdown(sctx)
		cancel()
		serials.Close()
	}, nil
}

// readCertificates reads the certificates of a PEM file, or one DER
// certificate.
func readCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("%s holds no PEM or DER certificate", path)
		}
		out = append(out, c)
	}
	return out, nil
}
