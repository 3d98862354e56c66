package feed

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/nusig"
)

// Environment of the browser test, printed by scripts/services.d/browser.
const (
	envChromium    = "SIGNET_TEST_CHROMIUM"
	envNodeModules = "SIGNET_TEST_NODE_MODULES"
	// envScreenshots names a directory to keep the screenshots in (a
	// temporary one, removed after the test, when unset).
	envScreenshots = "SIGNET_SCREENSHOTS"
	// browserTimeout bounds the whole browser run: it takes 10–20 s.
	browserTimeout = 4 * time.Minute
)

// browserEnv returns the browser and playwright-core, skipping the test
// without them (failing it when scripts/test requires the services).
func browserEnv(t *testing.T) (chromium, modules, node string) {
	t.Helper()
	chromium, modules = os.Getenv(envChromium), os.Getenv(envNodeModules)
	node, err := exec.LookPath("node")
	if chromium == "" || modules == "" || err != nil {
		msg := envChromium + " and " + envNodeModules + " (and node) are needed: run ./scripts/test, or " +
			`set -a; eval "$(scripts/services.d/browser start)"; set +a`
		if os.Getenv("SIGNET_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromium, modules, node
}

// widgetsReadme is the README of the browser test's package: a bit of
// every construct the renderer knows, and markup that must stay text.
const widgetsReadme = "# Contoso Widgets\n\nSmall **UI widgets** for .NET, with `async` helpers.\n\n" +
	"## Install\n\n```\ndotnet add package Contoso.Widgets\n```\n\n" +
	"- Buttons and toggles\n- Progress bars\n- See the [documentation](https://example.com/widgets/docs)\n\n" +
	"> Signed by Alice Author.\n\n<script>alert('not run')</script>\n"

// TestBrowserFlow drives the web UI in headless Chromium (browsertest/
// flow.cjs): sign-up, two-factor enrolment with a code computed from the
// secret on the page, log-out and log-in with password and code,
// certificate registration (refused before the two-factor log-in), an
// unsigned upload refused with nuget.org's message once the certificate
// is registered, and a signed upload whose page shows its signer and
// timestamp. It saves screenshots of the main pages at 1280 and 390 px.
func TestBrowserFlow(t *testing.T) {
	chromium, modules, node := browserEnv(t)
	p := newSigningPKI(t)
	h := newFeed(t, sqliteBackend, func(c *Config) { c.Signing = p.signing() })
	dir := t.TempDir()
	shots := os.Getenv(envScreenshots)
	if shots == "" {
		shots = filepath.Join(dir, "screenshots")
	}

	// Another publisher's packages, so that lists and the warning about a
	// newer unsigned version have something to show.
	bob := h.signup("bob")
	register(t, h.store, "bob", p.author2.Certificate)
	fabrikamJSON := func(v string) []byte {
		return nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Fabrikam.Json", Version: v, Authors: "Fabrikam",
			Description: "Fast JSON reading and writing.", ExtraMetadata: "<tags>json serialization</tags>"})
	}
	bob.mustPush(sign(t, fabrikamJSON("1.0.0"), p.author2, p.tsa))
	bobAcc := mustAccount(t, h.store, "bob")
	if err := h.store.RemoveCertificate(ctx, bobAcc.ID, sha256Of(p.author2.Certificate.Raw)); err != nil {
		t.Fatal(err)
	}
	bob.mustPush(fabrikamJSON("1.1.0"))
	bob.mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Fabrikam.Logging", Version: "3.1.0-beta.2", Authors: "Fabrikam",
		Description: "Structured logging with sinks for files, consoles and anything that takes JSON lines, " +
			"described at some length so that the list has to clamp it to two lines on a phone screen."}))
	for range 3 {
		bob.status("/v3-flatcontainer/fabrikam.json/1.0.0/fabrikam.json.1.0.0.nupkg")
	}
	if err := h.srv.FlushDownloads(ctx); err != nil {
		t.Fatal(err)
	}

	widgets := func(v string) []byte {
		return nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Contoso.Widgets", Version: v, Authors: "Alice Author, Contoso",
			Description: "UI widgets for .NET applications: buttons, toggles and progress bars.",
			Dependencies: map[string][]nupkgtest.Dependency{
				"net8.0":         {{ID: "Fabrikam.Json", Version: "1.0.0"}},
				"netstandard2.0": {{ID: "Fabrikam.Json", Version: "[1.0.0, 2.0.0)"}, {ID: "System.Memory", Version: "4.5.5"}},
			},
			Files: map[string][]byte{"README.md": []byte(widgetsReadme), "lib/net8.0/Contoso.Widgets.dll": []byte("not really a dll")},
			ExtraMetadata: `<readme>README.md</readme><tags>widgets ui controls</tags><projectUrl>https://example.com/widgets</projectUrl>` +
				`<license type="expression">MIT</license><summary>Small UI widgets for .NET.</summary>`,
		})
	}
	files := map[string][]byte{
		"author.cer":                  p.author.Certificate.Raw,
		"Contoso.Widgets.1.2.0.nupkg": sign(t, widgets("1.2.0"), p.author, p.tsa),
		"Contoso.Widgets.1.3.0.nupkg": widgets("1.3.0"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	runCtx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, node, filepath.Join("browsertest", "flow.cjs"))
	cmd.Env = append(os.Environ(),
		envChromium+"="+chromium,
		envNodeModules+"="+modules,
		"SIGNET_UI_URL="+h.base,
		"SIGNET_UI_SHOTS="+shots,
		"SIGNET_UI_CERT="+filepath.Join(dir, "author.cer"),
		"SIGNET_UI_SIGNED="+filepath.Join(dir, "Contoso.Widgets.1.2.0.nupkg"),
		"SIGNET_UI_UNSIGNED="+filepath.Join(dir, "Contoso.Widgets.1.3.0.nupkg"),
		"SIGNET_UI_PACKAGE=Contoso.Widgets",
		"SIGNET_UI_VERSION=1.2.0",
		"SIGNET_UI_SIGNER="+p.author.Certificate.Subject.CommonName,
		"SIGNET_UI_TSA=Signet Feed Test TSA",
		"SIGNET_UI_FINGERPRINT="+nusig.Fingerprint(p.author.Certificate),
		"SIGNET_UI_MUST_SIGN="+msgMustSign,
		"SIGNET_UI_WARN_PACKAGE=Fabrikam.Json",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("browser run:\n%s", out.String())
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	t.Logf("screenshots in %s", shots)

	// What the browser did is in the store.
	v, err := h.store.Version(ctx, "Contoso.Widgets", "1.2.0")
	if err != nil || v.SignatureStatus != "valid" || !bytes.Equal(v.SignerSHA256, sha256Of(p.author.Certificate.Raw)) {
		t.Fatalf("uploaded version = %+v, %v; want signed by the author", v.SignatureStatus, err)
	}
	if _, err := h.store.Version(ctx, "Contoso.Widgets", "1.3.0"); err == nil {
		t.Fatal("the unsigned upload was stored")
	}
	alice := mustAccount(t, h.store, "alice")
	if tf, err := h.store.TwoFactor(ctx, alice.ID); err != nil || !tf.Enabled {
		t.Fatalf("alice's second factor = %+v, %v", tf, err)
	}
	if n, _, err := h.store.CountSigningCredentials(ctx, alice.ID); err != nil || n != 1 {
		t.Fatalf("alice's certificates = %d, %v", n, err)
	}
	for _, name := range []string{"home", "signup", "account-without-2fa", "twofactor", "recovery-codes", "login-code",
		"api-key", "account", "upload", "upload-refused", "package", "package-warning", "search", "manage"} {
		for _, w := range []string{"1280", "390"} {
			b, err := os.ReadFile(filepath.Join(shots, name+"-"+w+".png"))
			if err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
				t.Errorf("screenshot %s-%s: %v", name, w, err)
			}
		}
	}
}
