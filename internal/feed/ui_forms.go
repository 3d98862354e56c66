package feed

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/signet-nuget/signet/internal/account"
)

// Bounds and names of the UI's forms.
const (
	// maxFormBody bounds a urlencoded form: the largest (an API key with
	// a hundred package patterns) is a few kilobytes.
	maxFormBody = 64 << 10
	// anonCSRFCookie carries the double-submit token of the anonymous
	// forms (sign-up, log-in); anonCSRFBytes is its randomness.
	anonCSRFCookie = "signet_csrf"
	anonCSRFBytes  = 32
	// maxNextLength bounds the page a log-in returns to.
	maxNextLength = 512
)

// msgFormExpired refuses a form without the right CSRF token or from
// another origin.
const msgFormExpired = "This form has expired or did not come from this site. Go back, reload the page and try again."

// uiHandler is a page or form handler; a is nil for an anonymous request
// to a public page.
type uiHandler func(w http.ResponseWriter, r *http.Request, a *sessionAuth)

// uiSession is the request's session, nil when it has none.
func (s *Server) uiSession(r *http.Request) (*sessionAuth, error) {
	a, err := s.session(r)
	if errors.Is(err, errNoSession) {
		return nil, nil
	}
	return a, err
}

// page serves a public page, with the session when there is one.
func (s *Server) page(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.uiSession(r)
		if err != nil {
			s.uiInternal(w, r, nil, err)
			return
		}
		h(w, r, a)
	}
}

// loggedIn serves a page that needs a session, sending anyone without one
// to the log-in page, which returns here.
func (s *Server) loggedIn(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.uiSession(r)
		if err != nil {
			s.uiInternal(w, r, nil, err)
			return
		}
		if a == nil {
			s.redirect(w, r, "/login?next="+url.QueryEscape(strings.TrimPrefix(r.URL.Path, s.prefix)))
			return
		}
		h(w, r, a)
	}
}

// form serves a urlencoded form of a session: the body is bounded, and the
// form must come from the feed's origin with the session's CSRF token.
func (s *Server) form(h uiHandler) http.HandlerFunc {
	return s.sessionForm(func(r *http.Request) error { return r.ParseForm() }, maxFormBody, h)
}

// certificateForm serves the multipart certificate upload of a session,
// bounded as the API's.
func (s *Server) certificateForm(h uiHandler) http.HandlerFunc {
	return s.sessionForm(func(r *http.Request) error { return r.ParseMultipartForm(maxCertificateRequest) }, maxCertificateRequest, h)
}

func (s *Server) sessionForm(parse func(*http.Request) error, limit int64, h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.uiSession(r)
		if err != nil {
			s.uiInternal(w, r, nil, err)
			return
		}
		if a == nil {
			s.redirect(w, r, "/login")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := parse(r); err != nil {
			if tooLarge(err) {
				s.errorPage(w, r, a, http.StatusRequestEntityTooLarge, "The form is too large.")
				return
			}
			s.errorPage(w, r, a, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		if !s.sameOrigin(r) || !account.CheckCSRF(a.token, r.PostFormValue(csrfField)) {
			s.errorPage(w, r, a, http.StatusForbidden, msgFormExpired)
			return
		}
		h(w, r, a)
	}
}

// sameOrigin refuses a request whose Origin header (which browsers send
// with every POST) names another origin than the feed's: its public URL,
// or the host the browser reached it by (the Host header), so that a feed
// on 127.0.0.1 also works when browsed as localhost. A page of another
// site always sends its own origin, which matches neither. Requests
// without one (other clients) are left to the CSRF token.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if strings.EqualFold(o, s.base.Scheme+"://"+s.base.Host) {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// anonCookieName is the double-submit cookie's name: with the __Host-
// prefix when the feed is served over TLS at the root of its host, so that
// a sibling subdomain cannot plant one.
func (s *Server) anonCookieName() string {
	if s.cfg.SecureCookies && s.prefix == "" {
		return "__Host-" + anonCSRFCookie
	}
	return anonCSRFCookie
}

// anonToken is the anonymous forms' CSRF token: the double-submit cookie's
// value, set now when the browser has none. The anonymous forms (sign-up,
// log-in) have no session whose token they could carry, and the feed keeps
// no secret of its own to sign one with, so the form carries a copy of a
// random cookie that another site can neither read nor (SameSite, and
// __Host- over TLS) set.
func (s *Server) anonToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(s.anonCookieName()); err == nil && validAnonToken(c.Value) {
		return c.Value, nil
	}
	b := make([]byte, anonCSRFBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name:     s.anonCookieName(),
		Value:    token,
		Path:     s.prefix + "/",
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	return token, nil
}

func validAnonToken(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == anonCSRFBytes
}

// checkAnonCSRF checks an anonymous form: its origin, and its token
// against the double-submit cookie. The form must be parsed.
func (s *Server) checkAnonCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.anonCookieName())
	if err != nil || !validAnonToken(c.Value) || !s.sameOrigin(r) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

// safeNext is the feed path a log-in returns to: a path of the feed, never
// another site ("//host", "/\host"), else the account page.
func safeNext(next string) string {
	if next == "" || len(next) > maxNextLength || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/account"
	}
	return next
}

// --- the JSON API, in-process ---

// apiCall is a request to a JSON API handler made by a page: the pages
// drive the API's own handlers, so that the UI has the API's rules,
// validation and messages, and no second copy of them.
type apiCall struct {
	method string
	// json is the body, encoded as JSON (nil: no body), unless raw is set:
	// then raw is the body with the Content-Type rawType.
	json    any
	raw     []byte
	rawType string
	query   string
	// path are the {name} values of the API's route, in pairs.
	path []string
}

// apiAnswer is a handler's answer.
type apiAnswer struct {
	status int
	body   []byte
}

func (a apiAnswer) ok() bool { return a.status >= 200 && a.status < 300 }

// message is the API's error message, made a sentence for a page.
func (a apiAnswer) message() string {
	var e apiError
	if json.Unmarshal(a.body, &e) != nil || e.Error == "" {
		return http.StatusText(a.status)
	}
	return sentence(e.Error)
}

func (a apiAnswer) decode(v any) error { return json.Unmarshal(a.body, v) }

// apiRecorder records an API handler's answer. It is no http.Hijacker.
type apiRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *apiRecorder) Header() http.Header { return rec.header }

func (rec *apiRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}

func (rec *apiRecorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

// callAPI runs an API handler on a copy of the page's request (its
// cookies, context and client address) with c's method, body and path
// values. Cookies the handler sets (a new session) are passed on to w.
// The caller has authenticated the request and checked its CSRF token.
func (s *Server) callAPI(w http.ResponseWriter, r *http.Request, c apiCall, h http.HandlerFunc) apiAnswer {
	req := r.Clone(r.Context())
	req.Method = c.method
	req.Header = http.Header{}
	for _, k := range []string{"Cookie", "User-Agent"} {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = v
		}
	}
	var body []byte
	switch {
	case c.raw != nil:
		body = c.raw
		req.Header.Set("Content-Type", c.rawType)
	case c.json != nil:
		b, err := json.Marshal(c.json)
		if err != nil {
			return apiAnswer{status: http.StatusInternalServerError}
		}
		body = b
		req.Header.Set("Content-Type", "application/json")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Form, req.PostForm, req.MultipartForm = nil, nil, nil
	req.URL.RawQuery = c.query
	for i := 0; i+1 < len(c.path); i += 2 {
		req.SetPathValue(c.path[i], c.path[i+1])
	}
	rec := &apiRecorder{header: http.Header{}}
	h(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	for _, v := range rec.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", v)
	}
	return apiAnswer{status: rec.status, body: rec.body.Bytes()}
}

// as makes an API handler that needs a session one that callAPI runs,
// with the page's session.
func as(a *sessionAuth, h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h(w, r, a) }
}

// apiRefused renders the page of a failed API call: its message, or a
// generic one for a failure of the feed (which the API logged).
func (s *Server) apiRefused(w http.ResponseWriter, r *http.Request, a *sessionAuth, ans apiAnswer) {
	if ans.status >= 500 {
		s.errorPage(w, r, a, ans.status, "Something went wrong on the feed. Try again later.")
		return
	}
	s.errorPage(w, r, a, ans.status, ans.message())
}
