package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/signet-nuget/signet/internal/atomicfile"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/tsa"
)

func init() {
	register(&command{name: "demo", summary: "make a dev PKI, start a TSA, sign, countersign and verify a sample package", run: runDemo})
}

// runDemo is the README's first command: Signet's whole signing path on
// embedded defaults, narrated.
func runDemo(ctx context.Context, e *env, args []string) int {
	var dir string
	f := newFlagSet("demo", "signet demo [--dir <dir>]", e.stderr)
	f.StringVar(&dir, "dir", "", "where to write the PKI and packages (default: a new temporary directory)")
	if _, code := f.parse(args); code != nil {
		return *code
	}
	if err := demo(ctx, e, dir); err != nil {
		printError(e.stderr, err)
		return 1
	}
	return 0
}

func demo(ctx context.Context, e *env, dir string) error {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "signet-demo-"); err != nil {
			return err
		}
	}
	say := func(format string, args ...any) { fmt.Fprintf(e.stdout, "==> "+format+"\n", args...) }

	say("Making a development PKI in %s", filepath.Join(dir, "pki"))
	pki, err := devpki.WriteDevCerts(filepath.Join(dir, "pki"))
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serials, err := tsa.NewFileSerials(filepath.Join(dir, "tsa.serial"))
	if err != nil {
		return err
	}
	defer serials.Close()
	ts := &tsa.Server{Certificate: pki.Timestamping.Certificate, Chain: pki.Timestamping.Chain, Signer: pki.Timestamping.Signer, Serials: serials,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := ts.Validate(); err != nil {
		ln.Close()
		return err
	}
	tsaCtx, stopTSA := context.WithCancel(ctx)
	defer stopTSA()
	go tsa.Serve(tsaCtx, ln, ts)
	tsaURL := "http://" + ln.Addr().String() + "/"
	say("Started an RFC 3161 timestamp authority at %s", tsaURL)

	pkg := filepath.Join(dir, "Signet.Demo.1.0.0.nupkg")
	err = atomicfile.Write(pkg, 0o644, func(w io.Writer) error {
		return nupkgtest.Write(w, nupkgtest.Spec{
			ID: "Signet.Demo", Version: "1.0.0", Authors: "Signet", Description: "A sample package signed by signet demo.",
			Files: map[string][]byte{"lib/net8.0/Signet.Demo.dll": bytes.Repeat([]byte("sample\n"), 1000)},
		})
	})
	if err != nil {
		return err
	}
	say("Wrote a sample package %s", pkg)

	steps := []struct {
		what string
		args []string
	}{
		{"Author-signing it (signet sign)", []string{"sign", pkg, "--trust-bundle", pki.RootPEM, "--certificate-path", pki.CodeSigningPFX, "--timestamper", tsaURL}},
		{"Adding a repository countersignature (signet repository-sign)", []string{"repository-sign", pkg, "--trust-bundle", pki.RootPEM, "--certificate-path", pki.RepositoryPFX,
			"--timestamper", tsaURL, "--service-index-url", "https://localhost:5000/v3/index.json", "--owners", "signet-demo"}},
		{"Verifying it, trusting the dev root (signet verify)", []string{"verify", pkg, "--trust-bundle", pki.RootPEM, "--offline"}},
	}
	for _, s := range steps {
		say("%s", s.what)
		fmt.Fprintf(e.stdout, "    $ signet %s\n", shellJoin(s.args))
		if code := run(ctx, e, s.args); code != 0 {
			return fmt.Errorf("step %q failed with exit code %d", s.what, code)
		}
	}

	tampered := filepath.Join(dir, "Signet.Demo.1.0.0.tampered.nupkg")
	b, err := os.ReadFile(pkg)
	if err != nil {
		return err
	}
	b[100] ^= 0xFF // inside the first entry's data: the zip stays readable
	if err := atomicfile.WriteFile(tampered, b, 0o644); err != nil {
		return err
	}
	say("Flipping one byte in a copy and verifying that: it must fail with NU3008")
	args := []string{"verify", tampered, "--trust-bundle", pki.RootPEM, "--offline", "-v", "quiet"}
	fmt.Fprintf(e.stdout, "    $ signet %s\n", shellJoin(args))
	if code := run(ctx, e, args); code == 0 {
		return fmt.Errorf("the tampered package verified")
	}
	say("Done. Everything is in %s", dir)
	return nil
}

func shellJoin(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || bytes.ContainsAny([]byte(a), " \t\"'$;&|<>*?") {
			fmt.Fprintf(&b, "'%s'", a)
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}
