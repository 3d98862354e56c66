package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// Bounds of the JSON API.
const (
	// maxJSONBody bounds a JSON request body; the largest real one (an API
	// key with a few dozen globs) is a few kilobytes.
	maxJSONBody = 64 << 10
	// maxKeyLifetimeDays bounds an API key's expiry, as nuget.org does
	// (365 days).
	maxKeyLifetimeDays = 365
	// maxGlobs bounds the package patterns of one key.
	maxGlobs = 100
	// maxNameLength bounds account names, as nuget.org's usernames.
	maxNameLength = 64
	// maxKeyNameLength bounds a key's description.
	maxKeyNameLength = 200
)

// accountName is nuget.org's rule for user and organisation names.
var accountName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// handler is an /api/v1 handler that needs a session.
type authedHandler func(w http.ResponseWriter, r *http.Request, a *sessionAuth)

// apiRoutes registers the JSON API.
func (s *Server) apiRoutes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("POST /api/v1/users", "api-users", s.handleCreateUser)
	// Wrong second-factor codes are counted apart from wrong passwords.
	codes := s.codes
	handle("POST /api/v1/session", "api-session", s.handleLogin(codes))
	handle("DELETE /api/v1/session", "api-session", s.authed(s.handleLogout))
	handle("GET /api/v1/account", "api-account", s.authed(s.handleAccount))

	handle("POST /api/v1/account/2fa", "api-2fa", s.authed(s.handleBeginTwoFactor))
	handle("GET /api/v1/account/2fa/qr.png", "api-2fa", s.authed(s.handleTwoFactorQR))
	handle("POST /api/v1/account/2fa/confirm", "api-2fa", s.authed(s.handleConfirmTwoFactor(codes)))
	handle("DELETE /api/v1/account/2fa", "api-2fa", s.authed(s.handleDisableTwoFactor(codes)))

	// The same handlers serve a user's certificates and, with {name}, an
	// organisation's.
	for _, base := range []string{"/api/v1/account", "/api/v1/organizations/{name}"} {
		handle("GET "+base+"/certificates", "api-certificates", s.authed(s.handleListCertificates))
		handle("POST "+base+"/certificates", "api-certificates", limitBody(maxCertificateRequest, s.authed(s.handleAddCertificate)))
		handle("DELETE "+base+"/certificates/{sha256}", "api-certificates", s.authed(s.handleRemoveCertificate))
		handle("DELETE "+base+"/certificate-identities", "api-certificates", s.authed(s.handleRemoveIdentity))
	}

	handle("GET /api/v1/apikeys", "api-apikeys", s.authed(s.handleListKeys))
	handle("POST /api/v1/apikeys", "api-apikeys", s.authed(s.handleCreateKey))
	handle("DELETE /api/v1/apikeys/{key}", "api-apikeys", s.authed(s.handleDeleteKey))

	handle("GET /api/v1/packages/{id}/owners", "api-owners", s.handleListOwners)
	handle("POST /api/v1/packages/{id}/owners", "api-owners", s.authed(s.handleAddOwner))
	handle("DELETE /api/v1/packages/{id}/owners/{owner}", "api-owners", s.authed(s.handleRemoveOwner))
	handle("PUT /api/v1/packages/{id}/versions/{version}/listed", "api-listed", s.authed(s.handleSetListed))
	handle("PUT /api/v1/packages/{id}/required-signer", "api-required-signer", s.authed(s.handleSetRequiredSigner))

	handle("GET /api/v1/reservations", "api-reservations", s.handleListReservations)
	handle("POST /api/v1/reservations", "api-reservations", s.authed(s.handleCreateReservation))
	handle("DELETE /api/v1/reservations/{pattern}", "api-reservations", s.authed(s.handleDeleteReservation))
	handle("POST /api/v1/reservations/{pattern}/owners", "api-reservations", s.authed(s.handleAddReservationOwner))
	handle("DELETE /api/v1/reservations/{pattern}/owners/{owner}", "api-reservations", s.authed(s.handleRemoveReservationOwner))

	handle("POST /api/v1/admin/revalidate", "api-revalidate", s.authed(s.handleRevalidate))
	handle("POST /api/v1/organizations", "api-organizations", s.authed(s.handleCreateOrganization))
	handle("GET /api/v1/organizations/{name}/members", "api-organizations", s.authed(s.handleListMembers))
	handle("PUT /api/v1/organizations/{name}/members/{user}", "api-organizations", s.authed(s.handleSetMember))
	handle("DELETE /api/v1/organizations/{name}/members/{user}", "api-organizations", s.authed(s.handleRemoveMember))
}

// authed requires a live session, and the CSRF token on requests a form
// could send.
func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.session(r)
		if errors.Is(err, errNoSession) {
			writeError(w, http.StatusUnauthorized, "log in first: this needs a session (POST /api/v1/session)")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !checkCSRF(r, a) {
			writeError(w, http.StatusForbidden, "the request lacks the session's CSRF token ("+csrfHeader+" header or "+csrfField+" field)")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, a)
	}
}

// decodeJSON reads a JSON request body of a bounded size into v, refusing
// other content types, unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooLarge(err) {
			writeError(w, http.StatusRequestEntityTooLarge, "the body is too large")
			return false
		}
		writeError(w, http.StatusBadRequest, "the body is not valid JSON for this request: "+err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "the body holds more than one JSON value")
		return false
	}
	return true
}

// storeError answers a store error a caller did not expect to branch on:
// 404, 409 or 500.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrLastOwner):
		writeError(w, http.StatusConflict, "that would leave no owner")
	case errors.Is(err, store.ErrLastAdmin):
		writeError(w, http.StatusConflict, "that would leave the organization without an admin")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "that exists already")
	case errors.Is(err, store.ErrNotOwner):
		writeError(w, http.StatusConflict, "the account is not an owner of the package")
	default:
		s.internal(w, r, err)
	}
}

// --- users and sessions ---

type userJSON struct {
	Username string    `json:"username"`
	Email    string    `json:"email,omitempty"`
	Admin    bool      `json:"admin,omitempty"`
	Created  time.Time `json:"created"`
}

func toUserJSON(u store.User, private bool) userJSON {
	j := userJSON{Username: u.Name, Admin: u.Admin, Created: u.Created}
	if private {
		j.Email = u.Email
	}
	return j
}

// checkAccountName validates a new user or organisation name.
func checkAccountName(name string) error {
	if len(name) == 0 || len(name) > maxNameLength || !accountName.MatchString(name) {
		return fmt.Errorf("the name %q is not valid: use 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit", name, maxNameLength)
	}
	return nil
}

func checkEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return fmt.Errorf("the e-mail address %q is not valid", email)
	}
	return nil
}

// handleCreateUser is POST /api/v1/users {"username","password","email"}.
// With open sign-up anyone may call it; otherwise an administrator's
// session must, and may set "admin".
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Email    string `json:"email"`
		Admin    bool   `json:"admin"`
	}
	var caller *sessionAuth
	if a, err := s.session(r); err == nil {
		caller = a
	}
	if caller != nil && !checkCSRF(r, caller) {
		writeError(w, http.StatusForbidden, "the request lacks the session's CSRF token")
		return
	}
	isAdmin := caller != nil && caller.user.Admin
	if !s.cfg.AllowSignup && !isAdmin {
		writeError(w, http.StatusForbidden, "sign-up is closed on this feed: an administrator creates accounts")
		return
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Admin && !isAdmin {
		writeError(w, http.StatusForbidden, "only an administrator can create administrators")
		return
	}
	if err := checkAccountName(in.Username); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkEmail(in.Email); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := account.CheckPassword(in.Password, in.Username); err != nil {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "account: "))
		return
	}
	hash, err := account.HashPassword(in.Password)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	u, err := s.store.CreateUser(r.Context(), store.NewUser{Name: in.Username, Email: in.Email, PasswordHash: hash, Admin: in.Admin})
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, fmt.Sprintf("the name %q is taken", in.Username))
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("user created", "user", u.Name, "admin", u.Admin)
	writeJSON(w, r, http.StatusCreated, toUserJSON(u, true))
}

type sessionJSON struct {
	User      userJSON  `json:"user"`
	TwoFactor bool      `json:"twoFactor"`
	Expires   time.Time `json:"expires"`
	CSRFToken string    `json:"csrfToken"`
}

func toSessionJSON(a *sessionAuth) sessionJSON {
	return sessionJSON{User: toUserJSON(a.user, true), TwoFactor: a.session.TwoFactor, Expires: a.session.Expires,
		CSRFToken: account.CSRFToken(a.token)}
}

// msgBadLogin is the one answer to a wrong name or password, so that it
// does not tell which names exist.
const msgBadLogin = "the username or password is wrong"

// handleLogin is POST /api/v1/session {"username","password","otp"}. For
// a user with two-factor authentication, "otp" is a TOTP code or a
// recovery code; without it the answer is 401 with "twoFactorRequired".
func (s *Server) handleLogin(codes codeLimiter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Username string `json:"username"`
			Password string `json:"password"`
			OTP      string `json:"otp"`
		}
		if !decodeJSON(w, r, &in) {
			return
		}
		now := s.now()
		key := limitKey(in.Username)
		if s.logins.blocked(key, now) {
			writeError(w, http.StatusTooManyRequests, "too many failed log-ins for this account: try again later")
			return
		}
		u, err := s.store.UserByName(r.Context(), in.Username)
		if errors.Is(err, store.ErrNotFound) {
			account.VerifyNoUser(in.Password) // same time as a wrong password
			s.logins.fail(key, now)
			writeError(w, http.StatusUnauthorized, msgBadLogin)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		ok, rehash, err := account.VerifyPassword(u.PasswordHash, in.Password)
		if err != nil && !errors.Is(err, account.ErrNoPassword) {
			s.log.Warn("stored password hash unusable", "user", u.Name, "err", err)
		}
		if !ok {
			s.logins.fail(key, now)
			writeError(w, http.StatusUnauthorized, msgBadLogin)
			return
		}
		s.logins.reset(key)
		if rehash {
			if h, err := account.HashPassword(in.Password); err == nil {
				if err := s.store.SetPasswordHash(r.Context(), u.ID, h); err != nil {
					s.log.Warn("upgrading password hash", "user", u.Name, "err", err)
				}
			}
		}
		twoFactor, ok := s.loginSecondFactor(w, r, codes, u, in.OTP)
		if !ok {
			return
		}
		a, err := s.startSession(w, r, u, twoFactor)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		s.log.Info("logged in", "user", u.Name, "twoFactor", twoFactor)
		writeJSON(w, r, http.StatusOK, toSessionJSON(a))
	}
}

// handleLogout is DELETE /api/v1/session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if err := s.store.DeleteSession(r.Context(), a.session.TokenHash); err != nil {
		s.internal(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie("", time.Time{}))
	w.WriteHeader(http.StatusNoContent)
}

// handleAccount is GET /api/v1/account: the session's user, its
// organisations, its CSRF token and its second factor.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ms, err := s.store.Memberships(r.Context(), a.user.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	type org struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	orgs := []org{}
	for _, m := range ms {
		orgs = append(orgs, org{Name: m.Organization.Name, Role: string(m.Role)})
	}
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, struct {
		sessionJSON
		Organizations []org `json:"organizations"`
		// TwoFactorEnabled tells whether the user's log-ins need a second
		// factor (sessionJSON's twoFactor: whether this one passed it).
		TwoFactorEnabled  bool `json:"twoFactorEnabled"`
		RecoveryCodesLeft *int `json:"recoveryCodesLeft,omitempty"`
	}{toSessionJSON(a), orgs, tf.Enabled, recoveryCodesLeft(tf)})
}

// --- API keys ---

type keyJSON struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Owner    string     `json:"owner"`
	Scopes   []string   `json:"scopes"`
	Packages []string   `json:"packages"`
	Created  time.Time  `json:"created"`
	Expires  *time.Time `json:"expires,omitempty"`
	LastUsed *time.Time `json:"lastUsed,omitempty"`
	// Key is the key itself, in the answer that creates it only.
	Key string `json:"key,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toKeyJSON(r *http.Request, k store.APIKey) keyJSON {
	owner := ""
	if acc, err := s.store.Account(r.Context(), k.OwnerID); err == nil {
		owner = acc.Name
	}
	return keyJSON{ID: k.ID, Name: k.Name, Owner: owner, Scopes: k.Scopes, Packages: k.Globs, Created: k.Created,
		Expires: optTime(k.Expires), LastUsed: optTime(k.LastUsed)}
}

// handleListKeys is GET /api/v1/apikeys.
func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ks, err := s.store.APIKeys(r.Context(), a.user.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := []keyJSON{}
	for _, k := range ks {
		out = append(out, s.toKeyJSON(r, k))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// handleCreateKey is POST /api/v1/apikeys {"name","scopes","packages",
// "expiresInDays","owner"}: the key is in the answer, and nowhere else.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		Packages      []string `json:"packages"`
		ExpiresInDays *int     `json:"expiresInDays"`
		Owner         string   `json:"owner"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Name == "" || len(in.Name) > maxKeyNameLength {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("a key needs a name of 1 to %d characters", maxKeyNameLength))
		return
	}
	if len(in.Scopes) == 0 {
		writeError(w, http.StatusBadRequest, "a key needs at least one scope: package:push, package:pushversion or package:unlist")
		return
	}
	for _, sc := range in.Scopes {
		if err := account.ValidateScope(sc); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown scope %q: use package:push, package:pushversion or package:unlist", sc))
			return
		}
	}
	if len(in.Packages) > maxGlobs {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("a key can name at most %d package patterns", maxGlobs))
		return
	}
	for _, g := range in.Packages {
		if err := account.ValidateGlob(g); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("the package pattern %q is not valid", g))
			return
		}
	}
	days := maxKeyLifetimeDays
	if in.ExpiresInDays != nil {
		days = *in.ExpiresInDays
	}
	if days < 1 || days > maxKeyLifetimeDays {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("expiresInDays must be 1 to %d", maxKeyLifetimeDays))
		return
	}
	owner := a.user.ID
	if in.Owner != "" && !strings.EqualFold(in.Owner, a.user.Name) {
		acc, err := s.store.AccountByName(r.Context(), in.Owner)
		if err != nil || acc.Kind != store.KindOrganization || !s.isMember(r.Context(), a.user.ID, acc.ID) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("you can create keys for yourself and for organizations you belong to, not for %q", in.Owner))
			return
		}
		owner = acc.ID
	}
	key, hash, err := account.NewAPIKey()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	k, err := s.store.CreateAPIKey(r.Context(), store.NewAPIKey{UserID: a.user.ID, OwnerID: owner, Name: in.Name, Hash: hash,
		Scopes: in.Scopes, Globs: in.Packages, Expires: s.now().AddDate(0, 0, days)})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("API key created", "user", a.user.Name, "key", k.ID, "scopes", strings.Join(k.Scopes, ","))
	out := s.toKeyJSON(r, k)
	out.Key = key
	writeJSON(w, r, http.StatusCreated, out)
}

// handleDeleteKey is DELETE /api/v1/apikeys/{key}.
func (s *Server) handleDeleteKey(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	id, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such API key")
		return
	}
	if err := s.store.DeleteAPIKey(r.Context(), a.user.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no such API key")
			return
		}
		s.internal(w, r, err)
		return
	}
	s.log.Info("API key deleted", "user", a.user.Name, "key", id)
	w.WriteHeader(http.StatusNoContent)
}
