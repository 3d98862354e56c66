package feed

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// sessionCookie names the log-in session cookie.
const sessionCookie = "signet_session"

// csrfHeader carries the CSRF token of a session on requests that a plain
// HTML form could send; forms carry it in the csrfField field.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// sessionAuth is an authenticated log-in session.
type sessionAuth struct {
	user    store.User
	session store.Session
	token   string // the cookie's token, for the CSRF token
}

// errNoSession means that the request carries no live session.
var errNoSession = errors.New("feed: not logged in")

// session authenticates the request's session cookie.
func (s *Server) session(r *http.Request) (*sessionAuth, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	hash, err := account.HashToken(c.Value)
	if err != nil {
		return nil, errNoSession
	}
	se, err := s.store.SessionByHash(r.Context(), hash, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(r.Context(), se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	return &sessionAuth{user: u, session: se, token: c.Value}, nil
}

// formSendable reports whether a request's body could have been sent by a
// plain HTML form or a no-CORS fetch of another site: the content types a
// form can send, or none at all on a request with a body.
func formSendable(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength != 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// checkCSRF refuses a state-changing request whose body a form of another
// site could have sent, unless it carries the session's CSRF token (header
// or form field). JSON and raw-file bodies cannot be sent cross-site
// without a CORS preflight, which the feed never grants.
func checkCSRF(r *http.Request, a *sessionAuth) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if !formSendable(r) {
		return true
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			got = r.FormValue(csrfField)
		}
	}
	return got != "" && account.CheckCSRF(a.token, got)
}

// setSessionCookie starts a session for the user and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User, twoFactor bool) (*sessionAuth, error) {
	token, hash, err := account.NewToken()
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(s.cfg.SessionLifetime)
	se, err := s.store.CreateSession(r.Context(), store.Session{TokenHash: hash, UserID: u.ID, TwoFactor: twoFactor, Expires: expires})
	if err != nil {
		return nil, err
	}
	// A log-in replaces the session the request came with (rotation).
	if old, err := r.Cookie(sessionCookie); err == nil {
		if h, err := account.HashToken(old.Value); err == nil {
			s.store.DeleteSession(r.Context(), h)
		}
	}
	http.SetCookie(w, s.cookie(token, expires))
	w.Header().Set("Cache-Control", "no-store")
	return &sessionAuth{user: u, session: se, token: token}, nil
}

func (s *Server) cookie(value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     s.prefix + "/",
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

// Bounds of the log-in limiter.
const (
	// maxLoginFailures failed log-ins of one account within
	// loginFailureWindow lock its password log-in for the rest of the
	// window: slow enough to stop guessing, short enough not to lock the
	// owner out for long.
	maxLoginFailures   = 10
	loginFailureWindow = 15 * time.Minute
	// maxLimiterEntries bounds the limiter's memory under a flood of names.
	maxLimiterEntries = 100000
)

// limiter counts failed attempts per key (an account name) in a window.
// It is per process: with several replicas an attacker gets a multiple of
// the limit, still far too few to guess a password or a code.
type limiter struct {
	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	failures int
	since    time.Time
}

func newLimiter() *limiter { return &limiter{entries: map[string]*limitEntry{}} }

// blocked reports whether key has failed too often recently.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil || now.Sub(e.since) > loginFailureWindow {
		return false
	}
	return e.failures >= maxLoginFailures
}

// fail records a failure of key.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil || now.Sub(e.since) > loginFailureWindow {
		if len(l.entries) >= maxLimiterEntries {
			for k, old := range l.entries {
				if now.Sub(old.since) > loginFailureWindow {
					delete(l.entries, k)
				}
			}
			if len(l.entries) >= maxLimiterEntries {
				return
			}
		}
		e = &limitEntry{since: now}
		l.entries[key] = e
	}
	e.failures++
}

// reset forgets key's failures after a success.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

func limitKey(name string) string { return strings.ToLower(name) }
