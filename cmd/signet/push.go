package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/trust"
)

func init() {
	register(&command{name: "push", summary: "push packages to a feed (like dotnet nuget push)", run: runPush})
}

// envAPIKey holds the API key when --api-key is not given.
const envAPIKey = "SIGNET_API_KEY"

func runPush(ctx context.Context, e *env, args []string) int {
	var (
		source, apiKey, configFile string
		skipDuplicate              bool
		timeout                    int
	)
	f := newFlagSet("push", "signet push <package>... -s|--source <url-or-name> [-k|--api-key <key>] [--skip-duplicate] [-t|--timeout <seconds>] [--configfile <path>]", e.stderr)
	f.StringVar(&source, "source", "", "package source: a V3 service index URL, a V2 push URL, or a source name from nuget.config (default: defaultPushSource)")
	f.alias("s", "source")
	f.StringVar(&apiKey, "api-key", "", "API key (default: $"+envAPIKey+", else a clear-text <apikeys> entry of nuget.config)")
	f.alias("k", "api-key")
	f.BoolVar(&skipDuplicate, "skip-duplicate", false, "treat a version the feed has already (409 Conflict) as pushed")
	f.IntVar(&timeout, "timeout", int(client.DefaultPushTimeout/time.Second), "timeout of each push in seconds; 0 means the default")
	f.alias("t", "timeout")
	f.StringVar(&configFile, "configfile", "", "nuget.config to read sources, credentials and API keys from")
	args, code := f.parse(args)
	if code != nil {
		return *code
	}
	if len(args) == 0 {
		printError(e.stderr, errors.New("no package given"), "usage: signet push <package>... -s <source> -k <api-key>")
		return 2
	}
	if timeout < 0 {
		printError(e.stderr, fmt.Errorf("--timeout %d is negative", timeout))
		return 2
	}
	paths, err := pushPaths(args)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	cfg, err := loadConfig(e, configFile)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	c, src, err := pushClient(e, cfg, source)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	endpoint, err := c.PublishURL(ctx)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	key, err := pushKey(e, cfg, apiKey, endpoint, src.Source)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	if key == "" {
		printWarning(e.stderr, fmt.Sprintf("No API Key was provided and no API Key could be found for '%s'; pass one with --api-key or $%s.", strings.TrimSuffix(endpoint, "/"), envAPIKey))
	}
	if strings.HasPrefix(endpoint, "http://") {
		printWarning(e.stderr, fmt.Sprintf("NU1803: You are running the 'push' operation with an 'HTTP' source, '%s'. The API key and the package travel unencrypted; use an 'HTTPS' source.", strings.TrimSuffix(endpoint, "/")))
	}
	o := client.PushOptions{SkipDuplicate: skipDuplicate, Timeout: time.Duration(timeout) * time.Second}
	for _, p := range paths {
		fmt.Fprintf(e.stdout, "Pushing %s to '%s'...\n", filepath.Base(p), strings.TrimSuffix(endpoint, "/"))
		res, err := c.PushFile(ctx, p, key, o)
		if err != nil {
			printPushError(e, err)
			return 1
		}
		if res.Duplicate {
			fmt.Fprintf(e.stdout, "Package '%s' already exists at feed '%s'.\n", filepath.Base(p), strings.TrimSuffix(endpoint, "/"))
			continue
		}
		fmt.Fprintln(e.stdout, "Your package was pushed.")
	}
	return 0
}

// pushPaths expands glob patterns and checks that every package exists, as
// dotnet does before it sends anything.
func pushPaths(args []string) ([]string, error) {
	var out []string
	for _, p := range expandPackages(args) {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("File does not exist (%s).", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// pushClient resolves --source (a name or URL from nuget.config, else a
// URL; without it, defaultPushSource) and returns a client with the
// source's protocol version and credentials.
func pushClient(e *env, cfg *trust.Config, source string) (*client.Client, trust.PackageSource, error) {
	if source == "" {
		source = cfg.DefaultPushSource()
	}
	if source == "" {
		return nil, trust.PackageSource{}, errors.New("Source parameter was not specified; pass -s <url-or-name> or set defaultPushSource in nuget.config")
	}
	src, named := cfg.FindSource(source)
	if !named {
		src = trust.PackageSource{Name: source, Source: source, ProtocolVersion: 2, Enabled: true}
	}
	if !src.IsHTTP() {
		return nil, src, fmt.Errorf("the source %q is not an http(s) URL; Signet does not push to local folders", src.Source)
	}
	o := client.Options{ProtocolVersion: src.ProtocolVersion, UserAgent: signetUserAgent(),
		Trace: func(ev client.Event) { tracePush(e, ev) }}
	if named {
		cred, err := cfg.Credential(src.Name)
		if err != nil {
			return nil, src, err
		}
		if cred != nil {
			o.Username, o.Password = cred.Username, cred.Password
		}
	}
	c, err := client.New(src.Source, o)
	return c, src, err
}

// pushKey picks the API key: --api-key, else $SIGNET_API_KEY, else the
// nuget.config <apikeys> entry of the push endpoint or the source.
func pushKey(e *env, cfg *trust.Config, flag, endpoint, source string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if k := strings.TrimSpace(e.getenv(envAPIKey)); k != "" {
		return k, nil
	}
	k, _, err := cfg.APIKey(endpoint, source)
	return k, err
}

// tracePush prints the publish requests as dotnet does:
// "  PUT <url>" and "  Created <url> 123ms".
func tracePush(e *env, ev client.Event) {
	if ev.Method != http.MethodPut {
		return
	}
	switch {
	case !ev.Done:
		fmt.Fprintf(e.stdout, "  %s %s\n", ev.Method, ev.URL)
	case ev.Err == nil:
		fmt.Fprintf(e.stdout, "  %s %s %dms\n", statusWord(ev.Status), ev.URL, ev.Duration.Milliseconds())
	}
}

// statusWord is the name .NET gives a status code ("Created",
// "NotFound").
func statusWord(code int) string {
	if t := http.StatusText(code); t != "" {
		return strings.ReplaceAll(t, " ", "")
	}
	return strconv.Itoa(code)
}

// printPushError prints a failed push as dotnet words it, with hints.
func printPushError(e *env, err error) {
	var se *client.StatusError
	if !errors.As(err, &se) {
		printError(e.stderr, err)
		return
	}
	msg := fmt.Errorf("Response status code does not indicate success: %d (%s).", se.StatusCode, strings.TrimSuffix(se.Reason, "."))
	switch se.StatusCode {
	case http.StatusConflict:
		printError(e.stderr, msg, "pass --skip-duplicate to treat a version the feed already has as pushed")
	case http.StatusUnauthorized, http.StatusForbidden:
		printError(e.stderr, msg, "check the API key (--api-key or $"+envAPIKey+"): it must exist, not be expired, and have the push scope for this package id")
	default:
		printError(e.stderr, msg)
	}
}

// signetUserAgent names Signet and its version to feeds.
func signetUserAgent() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "Signet/" + v + " (NuGet V3 client; " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
