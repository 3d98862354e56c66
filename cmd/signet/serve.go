package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/atomicfile"
	"github.com/signet-nuget/signet/internal/blob/blobopen"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/store"
)

func init() {
	register(&command{name: "serve", summary: "serve a NuGet V3 feed", run: runServe})
}

// shutdownGrace bounds how long a stopping feed waits for requests in
// flight (a large push on a slow link) before it closes their connections.
const shutdownGrace = 30 * time.Second

// adminCredentialsFile is written into the data directory when the feed
// creates its administrator with a generated password.
const adminCredentialsFile = "admin-credentials.txt"

func runServe(ctx context.Context, e *env, args []string) int {
	var listen, baseURL, dataDir, database, storage, adminName, logFormat string
	var maxUpload int64
	var signup bool
	f := newFlagSet("serve", "signet serve [--listen 127.0.0.1:5000] [--data ./signet-data] [--database <url>] [--storage <url>] [--base-url <url>]", e.stderr)
	f.StringVar(&listen, "listen", envOr(e, "SIGNET_LISTEN", "127.0.0.1:5000"), "address to listen on (SIGNET_LISTEN)")
	f.StringVar(&baseURL, "base-url", envOr(e, "SIGNET_BASE_URL", ""), "public URL of the feed, as clients reach it through any proxy (SIGNET_BASE_URL; default http://<listen>)")
	f.StringVar(&dataDir, "data", envOr(e, "SIGNET_DATA", "signet-data"), "directory of the embedded database, packages and credentials (SIGNET_DATA)")
	f.StringVar(&database, "database", envOr(e, "SIGNET_DATABASE", ""), "metadata database: sqlite:PATH or postgres://… (SIGNET_DATABASE; default sqlite:<data>/signet.db)")
	f.StringVar(&storage, "storage", envOr(e, "SIGNET_STORAGE", ""), "package storage: a directory, file:PATH or s3://BUCKET[/PREFIX]?endpoint=…&region=… (SIGNET_STORAGE; default <data>/packages)")
	f.StringVar(&adminName, "admin-user", envOr(e, "SIGNET_ADMIN_USER", "admin"), "administrator created on first start; its password comes from SIGNET_ADMIN_PASSWORD or is generated into <data>/"+adminCredentialsFile)
	f.Int64Var(&maxUpload, "max-upload", feed.DefaultMaxUpload, "largest package accepted, in bytes")
	f.BoolVar(&signup, "allow-signup", envOr(e, "SIGNET_ALLOW_SIGNUP", "true") == "true", "let anyone create an account (SIGNET_ALLOW_SIGNUP)")
	f.StringVar(&logFormat, "log-format", "", "text or json (default: text on a terminal, json otherwise)")
	var sf signingFlags
	sf.register(f, e)
	var revalidatePeriod time.Duration
	f.DurationVar(&revalidatePeriod, "revalidate-period", feed.DefaultRevalidatePeriod, "how often each signing certificate's revocation is checked again")
	if _, code := f.parse(args); code != nil {
		return *code
	}
	logger := newLogger(e.stderr, logFormat)

	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		printError(e.stderr, fmt.Errorf("creating the data directory: %w", err))
		return 1
	}
	if database == "" {
		database = "sqlite:" + filepath.Join(dataDir, "signet.db")
	}
	if storage == "" {
		storage = filepath.Join(dataDir, "packages")
	}
	st, err := store.Open(ctx, database)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer st.Close()
	blobs, err := blobopen.Open(ctx, storage)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer ln.Close()
	if baseURL == "" {
		baseURL = "http://" + ln.Addr().String()
	}
	baseURL = strings.TrimSuffix(baseURL, "/")
	tmp := filepath.Join(dataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		printError(e.stderr, err)
		return 1
	}
	signing, signingLines, stopSigning, err := setupSigning(ctx, e, &sf, dataDir, logger)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer stopSigning()
	srv, err := feed.New(feed.Config{
		Signing:          signing,
		RevalidatePeriod: revalidatePeriod,
		BaseURL:          baseURL,
		MaxUpload:        maxUpload,
		AllowSignup:      signup,
		SecureCookies:    strings.HasPrefix(baseURL, "https://"),
		TempDir:          tmp,
		Logger:           logger,
	}, st, blobs)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	creds, created, err := ensureAdmin(ctx, e, st, dataDir, adminName, baseURL)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	printServeBanner(e.stdout, srv.ServiceIndexURL(), baseURL, database, storage, adminName, creds, created, signingLines)

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(runCtx) }()
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests in flight", "grace", shutdownGrace)
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = hs.Shutdown(sctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			hs.Close()
		}
		if err == nil {
			err = <-serveErr
		}
	}
	stopRun()
	if rerr := <-runDone; rerr != nil {
		logger.Warn("stopping background work", "err", rerr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		printError(e.stderr, err)
		return 1
	}
	return 0
}

func envOr(e *env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// newLogger logs as text on a terminal and as JSON otherwise.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// ensureAdmin creates the administrator on the first start. Its password is
// SIGNET_ADMIN_PASSWORD, or a generated one that is written, with a push
// API key, to the credentials file (mode 0600) in the data directory;
// there is never a default password. It returns the credentials file when
// one exists.
func ensureAdmin(ctx context.Context, e *env, st *store.Store, dataDir, name, baseURL string) (string, bool, error) {
	credsPath := filepath.Join(dataDir, adminCredentialsFile)
	password := e.getenv("SIGNET_ADMIN_PASSWORD")
	generated := password == ""
	if generated {
		b := make([]byte, 20)
		rand.Read(b)
		password = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	}
	created, err := feed.EnsureAdmin(ctx, st, name, name+"@localhost", password)
	if err != nil {
		return "", false, err
	}
	if !created {
		if _, err := os.Stat(credsPath); err == nil {
			return credsPath, false, nil
		}
		return "", false, nil
	}
	if !generated {
		return "", true, nil
	}
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return "", false, err
	}
	key, hash, err := account.NewAPIKey()
	if err != nil {
		return "", false, err
	}
	if _, err := st.CreateAPIKey(ctx, store.NewAPIKey{UserID: u.ID, OwnerID: u.ID, Name: "created on first start",
		Hash: hash, Scopes: []string{account.ScopePush, account.ScopeUnlist}, Expires: time.Now().AddDate(1, 0, 0)}); err != nil {
		return "", false, err
	}
	text := fmt.Sprintf("# Signet feed administrator, created %s.\n# Keep this file secret; delete it once you have stored the password elsewhere.\nfeed: %s/v3/index.json\nusername: %s\npassword: %s\napi-key: %s\n",
		time.Now().UTC().Format(time.RFC3339), baseURL, name, password, key)
	if err := atomicfile.WriteFile(credsPath, []byte(text), 0o600); err != nil {
		return "", false, fmt.Errorf("writing %s: %w", credsPath, err)
	}
	return credsPath, true, nil
}

func printServeBanner(w io.Writer, index, base, database, storage, admin, creds string, created bool, signing []string) {
	fmt.Fprintf(w, "Signet feed: %s\n", index)
	fmt.Fprintf(w, "  web pages: %s/\n", base)
	fmt.Fprintf(w, "  database: %s\n  packages: %s\n", redactURL(database), redactURL(storage))
	for _, l := range signing {
		fmt.Fprintf(w, "  %s\n", l)
	}
	switch {
	case creds != "" && created:
		fmt.Fprintf(w, "  administrator %q created; its password and a push API key are in %s\n", admin, creds)
	case creds != "":
		fmt.Fprintf(w, "  administrator credentials: %s\n", creds)
	case created:
		fmt.Fprintf(w, "  administrator %q created with the password in SIGNET_ADMIN_PASSWORD\n", admin)
	}
	fmt.Fprintf(w, "\nPush a package:\n  dotnet nuget push My.Package.1.0.0.nupkg --source %s --api-key <api-key>\n", index)
	fmt.Fprintf(w, "Restore from it:\n  dotnet nuget add source %s --name signet", index)
	if strings.HasPrefix(index, "http://") {
		fmt.Fprint(w, " --allow-insecure-connections")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "API keys: POST %s/api/v1/session, then POST %s/api/v1/apikeys (see README)\n", base, base)
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	userinfo := rest[:at]
	if user, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return u
}
