package feed

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/signet-nuget/signet/internal/account"
)

// web holds the UI's templates (web/templates) and static assets
// (web/static), built into the binary.
//
//go:embed web
var web embed.FS

// Headers of every page.
const (
	// uiCSP allows scripts, styles, images and form targets from the feed
	// itself only: no inline script or style, no plugins, no framing.
	uiCSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
	// staticMaxAge is how long browsers keep a static asset; its URL
	// carries a hash of the assets, so a new build is fetched at once.
	staticMaxAge = 7 * 24 * time.Hour
)

// uiPage is what every template gets: the page's own data in Data, and
// what the layout needs.
type uiPage struct {
	Title string
	// User is the logged-in user (nil when anonymous) and TwoFactor
	// whether the session logged in with a second factor.
	User      *uiUser
	TwoFactor bool
	// CSRF is the token the page's forms carry: the session's, or the
	// anonymous double-submit token on the sign-up and log-in pages.
	CSRF string
	// LogoutCSRF is the session's token, for the log-out button of the
	// layout (set by render from the session).
	LogoutCSRF string
	// Flash is a confirmation and Error a refusal, shown at the top.
	Flash, Error string
	// Query is the search box's text; HideSearch leaves the header's
	// search box out (on a page with its own).
	Query      string
	HideSearch bool
	// FeedURL is the service index URL, for the footer and install
	// snippets.
	FeedURL string
	// NoStore marks a page that must not be cached (set by the handler;
	// every page of a session is no-store anyway).
	NoStore bool
	Data    any
}

type uiUser struct {
	Name  string
	Admin bool
}

// uiTemplates are the parsed pages: each page file with the layout and
// the partials.
type uiTemplates struct {
	pages map[string]*template.Template
	// static is a hash of the static assets, in their URLs.
	static string
}

var (
	uiOnce   sync.Once
	uiParsed *uiTemplates
	uiErr    error
)

// templates parses the embedded templates once. A parse error is a bug of
// the build, reported on every page.
func templates() (*uiTemplates, error) {
	uiOnce.Do(func() { uiParsed, uiErr = parseTemplates() })
	return uiParsed, uiErr
}

func parseTemplates() (*uiTemplates, error) {
	t := &uiTemplates{pages: map[string]*template.Template{}}
	h := sha256.New()
	err := fs.WalkDir(web, "web/static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("feed: reading the UI's assets: %w", err)
	}
	t.static = hex.EncodeToString(h.Sum(nil))[:12]
	pages, err := fs.Glob(web, "web/templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("feed: listing the UI's templates: %w", err)
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		tmpl, err := template.New(name).Funcs(uiFuncs).ParseFS(web, "web/templates/layout.html", "web/templates/partials/*.html", p)
		if err != nil {
			return nil, fmt.Errorf("feed: parsing the UI's template %s: %w", name, err)
		}
		t.pages[name] = tmpl
	}
	return t, nil
}

// uiFuncs are the templates' helpers. Paths are made absolute with the
// feed's prefix by the "url" helper, which every template link uses.
var uiFuncs = template.FuncMap{
	// url is filled per server (its prefix); this placeholder lets the
	// templates parse.
	"url":      func(p string, segs ...string) string { return joinURL("", p, segs...) },
	"static":   func(string) string { return "" },
	"date":     formatDate,
	"datetime": formatDateTime,
	"count":    formatCount,
	"join":     strings.Join,
	"bytes":    formatBytes,
	"sentence": sentence,
	"lower":    strings.ToLower,
	"int64":    func(n int) int64 { return int64(n) },
}

// joinURL is prefix + p + "/" + each segment, path-escaped.
func joinURL(prefix, p string, segs ...string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(p)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006")
}

func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04:05 UTC")
}

// formatCount writes n with thin-space-free thousands separators (1,234).
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// sentence capitalises a message of the API ("the name … is taken") for
// the page.
func sentence(msg string) string {
	r, n := utf8.DecodeRuneInString(msg)
	if r == utf8.RuneError {
		return msg
	}
	return string(unicode.ToUpper(r)) + msg[n:]
}

// render writes a page. The page's user and CSRF token come from a (nil:
// anonymous) unless the handler set them.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, a *sessionAuth, p *uiPage) {
	t, err := templates()
	if err != nil {
		s.log.Error("web UI templates", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	tmpl := t.pages[name]
	if tmpl == nil {
		s.log.Error("web UI: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if a != nil && p.User == nil {
		p.User = &uiUser{Name: a.user.Name, Admin: a.user.Admin}
		p.TwoFactor = a.session.TwoFactor
		if p.CSRF == "" {
			p.CSRF = account.CSRFToken(a.token)
		}
	}
	if a != nil && p.LogoutCSRF == "" {
		p.LogoutCSRF = account.CSRFToken(a.token)
	}
	if p.Query == "" {
		p.Query = r.URL.Query().Get("q")
	}
	if p.Flash == "" {
		p.Flash = flashMessages[r.URL.Query().Get("done")]
	}
	p.FeedURL = s.ServiceIndexURL()
	prefix := s.prefix
	tmpl, err = tmpl.Clone()
	if err == nil {
		tmpl.Funcs(template.FuncMap{
			"url":    func(p string, segs ...string) string { return joinURL(prefix, p, segs...) },
			"static": func(file string) string { return prefix + "/static/" + file + "?v=" + t.static },
		})
		var buf bytes.Buffer
		if err = tmpl.ExecuteTemplate(&buf, "layout", p); err == nil {
			uiHeaders(w, p.NoStore || p.User != nil || p.CSRF != "")
			w.WriteHeader(status)
			w.Write(buf.Bytes())
			return
		}
	}
	s.log.Error("web UI: rendering", "page", name, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// uiHeaders sets the security headers of a page.
func uiHeaders(w http.ResponseWriter, noStore bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if noStore {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
		h.Add("Vary", "Cookie")
	}
}

// flashMessages are the confirmations a redirect can ask for with ?done=:
// fixed texts, so that a link cannot put words on the page.
var flashMessages = map[string]string{
	"user-created":        "The account was created.",
	"signed-up":           "Welcome! Your account is ready. Turn on two-factor authentication before you register signing certificates.",
	"logged-in":           "You are logged in.",
	"logged-out":          "You are logged out.",
	"2fa-disabled":        "Two-factor authentication is off.",
	"2fa-cancelled":       "The two-factor enrolment was cancelled.",
	"key-revoked":         "The API key was revoked.",
	"certificate-added":   "The certificate is registered.",
	"certificate-removed": "The certificate was removed.",
	"identity-removed":    "The certificate identity was removed.",
	"org-created":         "The organization was created.",
	"member-saved":        "The member was saved.",
	"member-removed":      "The member was removed.",
	"owner-added":         "The owner was added.",
	"owner-removed":       "The owner was removed.",
	"signer-saved":        "The required signer was saved.",
	"listed":              "The version is listed again.",
	"unlisted":            "The version is unlisted: it no longer shows in search, but stays downloadable.",
	"uploaded":            "The package was uploaded.",
}

// errorPage renders a page that only says what went wrong.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, msg string) {
	s.render(w, r, status, "error", a, &uiPage{Title: http.StatusText(status), Error: msg})
}

// uiInternal logs an unexpected error and renders a page without its
// details.
func (s *Server) uiInternal(w http.ResponseWriter, r *http.Request, a *sessionAuth, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, a, http.StatusInternalServerError, "Something went wrong on the feed. Try again later.")
}

// redirect answers a form with 303 See Other to a path of the feed.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, p string) {
	http.Redirect(w, r, s.prefix+p, http.StatusSeeOther)
}

// handleStatic is GET /static/{file}: a file of web/static.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	b, err := web.ReadFile("web/static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(staticMaxAge/time.Second)))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
