package feed

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// The account page (/account): two-factor authentication, API keys,
// signing certificates, organisations and the user's packages; and the
// two-factor enrolment page (/account/2fa). Its forms drive the JSON API's
// handlers in-process.

// keyScopes are the scopes an API key can have, as the form offers them.
var keyScopes = []struct{ Value, Label string }{
	{account.ScopePush, "Push new packages and new versions"},
	{account.ScopePushVersion, "Push new versions of existing packages only"},
	{account.ScopeUnlist, "Unlist and relist versions"},
}

type membershipRow struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// accountData is the account page's.
type accountData struct {
	Email             string
	TwoFactorEnabled  bool
	TwoFactorPending  bool
	RecoveryCodesLeft int
	Keys              []keyJSON
	KeyOwners         []string
	Scopes            []struct{ Value, Label string }
	MaxKeyDays        int
	Certificates      certificatesData
	Organizations     []membershipRow
	Packages          []store.Package
}

// certificatesData is a certificate section: the account's certificates
// and identities, and where its forms go.
type certificatesData struct {
	// Action is the path the section's forms post to (without prefix),
	// and IdentityAction that of the identities' remove buttons.
	Action, IdentityAction string
	Certificates           []certificateJSON
	Identities             []identityJSON
	// TwoFactorEnabled tells the section what to say when the session has
	// no second factor: log in again, or turn it on first.
	TwoFactorEnabled bool
}

// msgUINeedTwoFactor refuses certificate changes from a session without a
// second factor, in the page's words.
const msgUINeedTwoFactor = "Registering or removing a signing certificate needs a log-in with two-factor authentication. " +
	"Turn on two-factor authentication, or log out and log in again with your authentication code."

// handleAccountPage is GET /account.
func (s *Server) handleAccountPage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	s.accountPage(w, r, a, http.StatusOK, "")
}

// accountPage renders the account page with a status and an error.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, errMsg string) {
	var acc struct {
		TwoFactorEnabled  bool
		RecoveryCodesLeft *int
		Organizations     []membershipRow
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodGet}, as(a, s.handleAccount))
	if !ans.ok() || ans.decode(&acc) != nil {
		s.apiRefused(w, r, a, ans)
		return
	}
	d := accountData{
		Email:            a.user.Email,
		TwoFactorEnabled: acc.TwoFactorEnabled,
		Organizations:    acc.Organizations,
		KeyOwners:        []string{a.user.Name},
		Scopes:           keyScopes,
		MaxKeyDays:       maxKeyLifetimeDays,
	}
	if acc.RecoveryCodesLeft != nil {
		d.RecoveryCodesLeft = *acc.RecoveryCodesLeft
	}
	for _, m := range acc.Organizations {
		d.KeyOwners = append(d.KeyOwners, m.Name)
	}
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.uiInternal(w, r, a, err)
		return
	}
	d.TwoFactorPending = err == nil && !tf.Enabled
	ans = s.callAPI(w, r, apiCall{method: http.MethodGet}, as(a, s.handleListKeys))
	if !ans.ok() || ans.decode(&d.Keys) != nil {
		s.apiRefused(w, r, a, ans)
		return
	}
	d.Certificates, ans = s.certificatesOf(w, r, a, "")
	if !ans.ok() {
		s.apiRefused(w, r, a, ans)
		return
	}
	d.Certificates.TwoFactorEnabled = d.TwoFactorEnabled
	if d.Packages, err = s.store.PackagesOwnedBy(r.Context(), a.user.ID); err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	s.render(w, r, status, "account", a, &uiPage{Title: "Your account", Error: errMsg, NoStore: true, Data: d})
}

// certificatesOf lists the certificates of the user (org "") or of an
// organisation, as the API does.
func (s *Server) certificatesOf(w http.ResponseWriter, r *http.Request, a *sessionAuth, org string) (certificatesData, apiAnswer) {
	d := certificatesData{Action: "/account/certificates", IdentityAction: "/account/certificate-identities/remove"}
	call := apiCall{method: http.MethodGet}
	if org != "" {
		d.Action = joinURL("", "/organizations", org, "certificates")
		d.IdentityAction = joinURL("", "/organizations", org, "certificate-identities", "remove")
		call.path = []string{"name", org}
	}
	var list struct {
		Certificates []certificateJSON
		Identities   []identityJSON
	}
	ans := s.callAPI(w, r, call, as(a, s.handleListCertificates))
	if ans.ok() && ans.decode(&list) != nil {
		ans.status = http.StatusInternalServerError
	}
	d.Certificates, d.Identities = list.Certificates, list.Identities
	return d, ans
}

// --- two-factor authentication ---

// twoFactorData is the enrolment page's.
type twoFactorData struct {
	// Secret is the base32 secret in groups of four, for typing.
	Secret string
	// URI is the otpauth:// URI (its scheme is not one html/template
	// passes in a link by itself).
	URI template.URL
}

// handleUIBeginTwoFactor is POST /account/2fa: start an enrolment.
func (s *Server) handleUIBeginTwoFactor(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost}, as(a, s.handleBeginTwoFactor))
	if !ans.ok() {
		s.accountPage(w, r, a, ans.status, ans.message())
		return
	}
	s.redirect(w, r, "/account/2fa")
}

// handleTwoFactorPage is GET /account/2fa: the pending enrolment's QR
// code, secret and confirmation form.
func (s *Server) handleTwoFactorPage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	s.twoFactorPage(w, r, a, http.StatusOK, "")
}

func (s *Server) twoFactorPage(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, errMsg string) {
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && tf.Enabled {
		s.redirect(w, r, "/account")
		return
	}
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	secret := totpEncoding.EncodeToString(tf.Secret)
	var groups []string
	for len(secret) > 4 {
		groups, secret = append(groups, secret[:4]), secret[4:]
	}
	groups = append(groups, secret)
	d := twoFactorData{
		Secret: strings.Join(groups, " "),
		URI:    template.URL(account.TOTPURI(s.totpIssuer(), a.user.Name, tf.Secret)),
	}
	s.render(w, r, status, "twofactor", a, &uiPage{Title: "Two-factor authentication", Error: errMsg, NoStore: true, Data: d})
}

// handleUIConfirmTwoFactor is POST /account/2fa/confirm: the first code
// turns two-factor authentication on; the answer shows the recovery codes,
// once, and carries the new session's cookie.
func (s *Server) handleUIConfirmTwoFactor(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{"code": r.PostFormValue("code")}},
		as(a, s.handleConfirmTwoFactor(s.codes)))
	if !ans.ok() {
		if ans.status >= 500 {
			s.apiRefused(w, r, a, ans)
			return
		}
		s.twoFactorPage(w, r, a, ans.status, ans.message())
		return
	}
	var done struct {
		CSRFToken     string
		RecoveryCodes []string
	}
	if err := ans.decode(&done); err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	p := &uiPage{Title: "Recovery codes", CSRF: done.CSRFToken, LogoutCSRF: done.CSRFToken, NoStore: true, TwoFactor: true,
		User: &uiUser{Name: a.user.Name, Admin: a.user.Admin}, Data: done.RecoveryCodes}
	s.render(w, r, http.StatusOK, "recovery", a, p)
}

// handleUIDisableTwoFactor is POST /account/2fa/disable: a code turns
// two-factor authentication off (a pending enrolment is cancelled
// without one).
func (s *Server) handleUIDisableTwoFactor(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.uiInternal(w, r, a, err)
		return
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodDelete, json: map[string]string{"code": r.PostFormValue("code")}},
		as(a, s.handleDisableTwoFactor(s.codes)))
	if !ans.ok() {
		s.accountPage(w, r, a, ans.status, ans.message())
		return
	}
	if tf.Enabled {
		s.redirect(w, r, "/account?done=2fa-disabled")
		return
	}
	s.redirect(w, r, "/account?done=2fa-cancelled")
}

// --- API keys ---

// newKeyData is the page that shows a new key, once.
type newKeyData struct {
	Key keyJSON
}

// handleUICreateKey is POST /account/apikeys.
func (s *Server) handleUICreateKey(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("expires")))
	if err != nil || days < 1 || days > maxKeyLifetimeDays {
		s.accountPage(w, r, a, http.StatusBadRequest, "Expires in (days) must be a number from 1 to "+strconv.Itoa(maxKeyLifetimeDays)+".")
		return
	}
	globs := strings.FieldsFunc(r.PostFormValue("packages"), func(c rune) bool {
		return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	})
	in := map[string]any{
		"name":          strings.TrimSpace(r.PostFormValue("name")),
		"scopes":        r.PostForm["scope"],
		"packages":      globs,
		"expiresInDays": days,
		"owner":         r.PostFormValue("owner"),
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: in}, as(a, s.handleCreateKey))
	if !ans.ok() {
		s.accountPage(w, r, a, ans.status, ans.message())
		return
	}
	var k keyJSON
	if err := ans.decode(&k); err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusCreated, "apikey", a, &uiPage{Title: "Your new API key", NoStore: true, Data: newKeyData{Key: k}})
}

// handleUIRevokeKey is POST /account/apikeys/{key}/revoke.
func (s *Server) handleUIRevokeKey(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ans := s.callAPI(w, r, apiCall{method: http.MethodDelete, path: []string{"key", r.PathValue("key")}}, as(a, s.handleDeleteKey))
	if !ans.ok() {
		s.accountPage(w, r, a, ans.status, ans.message())
		return
	}
	s.redirect(w, r, "/account?done=key-revoked")
}
