package feed

import (
	"net/http"
	"time"
)

// Sign-up, log-in (password, then an authentication code when the
// account has two-factor authentication) and log-out pages. They drive
// POST /api/v1/users and POST /api/v1/session in-process.
//
// The log-in's second step keeps no state on the feed: like the JSON API,
// which takes the password and the code in one request, its form sends the
// username and password again (hidden fields of a no-store page) with the
// code. That keeps replicas stateless and gives a half-finished log-in no
// session that could be mistaken for a whole one.

// signupData is the sign-up page's.
type signupData struct {
	Open            bool
	Username, Email string
}

// loginData is the log-in page's.
type loginData struct {
	Username string
	// Password is set on the second step only.
	Password string
	// CodeStep asks for the authentication code.
	CodeStep bool
	Next     string
	// Again is set when the visitor is logged in already (to log in again
	// with a second factor).
	Again bool
}

// handleSignupPage is GET /signup.
func (s *Server) handleSignupPage(w http.ResponseWriter, r *http.Request) {
	s.signupPage(w, r, http.StatusOK, signupData{}, "")
}

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request, status int, d signupData, errMsg string) {
	a, err := s.uiSession(r)
	if err != nil {
		s.uiInternal(w, r, nil, err)
		return
	}
	token, err := s.anonToken(w, r)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d.Open = s.cfg.AllowSignup || a != nil && a.user.Admin
	p := &uiPage{Title: "Sign up", CSRF: token, Error: errMsg, NoStore: true, Data: d}
	if a != nil {
		p.User, p.TwoFactor = &uiUser{Name: a.user.Name, Admin: a.user.Admin}, a.session.TwoFactor
	}
	s.render(w, r, status, "signup", a, p)
}

// handleSignup is POST /signup: create the account, then log in.
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := signupData{Username: r.PostFormValue("username"), Email: r.PostFormValue("email")}
	if !s.checkAnonCSRF(r) {
		s.signupPage(w, r, http.StatusForbidden, d, msgFormExpired)
		return
	}
	caller, err := s.uiSession(r)
	if err != nil {
		s.uiInternal(w, r, nil, err)
		return
	}
	password := r.PostFormValue("password")
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{
		"username": d.Username, "email": d.Email, "password": password}}, s.handleCreateUser)
	if !ans.ok() {
		if ans.status >= 500 {
			s.apiRefused(w, r, nil, ans)
			return
		}
		s.signupPage(w, r, ans.status, d, ans.message())
		return
	}
	if caller != nil {
		// Someone logged in (an administrator, when sign-up is closed)
		// made an account for another: stay logged in as yourself.
		s.redirect(w, r, "/account?done=user-created")
		return
	}
	ans = s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{
		"username": d.Username, "password": password}}, s.handleLogin(s.codes))
	if !ans.ok() {
		// The account exists; the log-in can be done by hand.
		s.redirect(w, r, "/login")
		return
	}
	s.redirect(w, r, "/account?done=signed-up")
}

// handleLoginPage is GET /login[?next=/path].
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.loginPage(w, r, http.StatusOK, loginData{Next: r.URL.Query().Get("next")}, "")
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, d loginData, errMsg string) {
	a, err := s.uiSession(r)
	if err != nil {
		s.uiInternal(w, r, nil, err)
		return
	}
	token, err := s.anonToken(w, r)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d.Next = safeNext(d.Next)
	d.Again = a != nil
	p := &uiPage{Title: "Log in", CSRF: token, Error: errMsg, NoStore: true, Data: d}
	if a != nil {
		p.User, p.TwoFactor = &uiUser{Name: a.user.Name, Admin: a.user.Admin}, a.session.TwoFactor
	}
	s.render(w, r, status, "login", a, p)
}

// handleUILogin is POST /login: the password step, and with "otp" the
// code step.
func (s *Server) handleUILogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := loginData{Username: r.PostFormValue("username"), Next: r.PostFormValue("next")}
	if !s.checkAnonCSRF(r) {
		s.loginPage(w, r, http.StatusForbidden, d, msgFormExpired)
		return
	}
	password, otp := r.PostFormValue("password"), r.PostFormValue("otp")
	codeStep := r.PostFormValue("step") == "code"
	if codeStep && otp == "" {
		d.Password, d.CodeStep = password, true
		s.loginPage(w, r, http.StatusBadRequest, d, "Type the code from your authenticator app, or a recovery code.")
		return
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{
		"username": d.Username, "password": password, "otp": otp}}, s.handleLogin(s.codes))
	if ans.ok() {
		s.redirect(w, r, safeNext(d.Next))
		return
	}
	if ans.status >= 500 {
		s.apiRefused(w, r, nil, ans)
		return
	}
	var refusal loginCodeError
	ans.decode(&refusal)
	if refusal.TwoFactorRequired {
		// The password was right: ask for the code, or say what was
		// wrong with it.
		d.Password, d.CodeStep = password, true
		msg := ""
		if otp != "" {
			msg = sentence(refusal.Error) + "."
		}
		status := http.StatusOK
		if msg != "" {
			status = ans.status
		}
		s.loginPage(w, r, status, d, msg)
		return
	}
	s.loginPage(w, r, ans.status, d, ans.message()+".")
}

// handleUILogout is POST /logout.
func (s *Server) handleUILogout(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if err := s.store.DeleteSession(r.Context(), a.session.TokenHash); err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	http.SetCookie(w, s.cookie("", time.Time{}))
	s.redirect(w, r, "/?done=logged-out")
}
