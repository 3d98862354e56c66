package feed

import "net/http"

// The web UI: server-rendered HTML pages (html/template, assets embedded
// from web/), built on the same store and the same JSON API handlers as
// /api/v1, so that every rule and message is the API's. Every core flow
// works without JavaScript; web/static/site.js only adds copy buttons.
//
// Security, in brief (ui_render.go and ui_forms.go have the details):
//   - every page is sent with a Content-Security-Policy of default-src
//     'self' and no inline script or style, nosniff, no framing and a
//     same-origin referrer policy; html/template escapes all output, and
//     READMEs are rendered by a minimal Markdown renderer that escapes all
//     text and emits only its own tags (ui_markdown.go);
//   - forms of a session carry its CSRF token (account.CSRFToken), the
//     anonymous forms (sign-up, log-in) a double-submit cookie, and every
//     POST with an Origin header must come from the feed's own origin;
//   - the session cookie is the JSON API's (HttpOnly, SameSite=Lax, Secure
//     with Config.SecureCookies), rotated at log-in and when two-factor
//     authentication is enabled;
//   - pages for a logged-in user, and every page that shows a secret (an
//     API key, recovery codes, a TOTP secret) are sent with
//     Cache-Control: no-store.
//
// Pages:
//
//	GET  /                                  newest packages and a search box
//	GET  /packages?q=&page=&prerelease=     search and browse, newest first, with download counts
//	GET  /packages/{id}[/{version}]         a package version: metadata, README, versions and signatures
//	GET  /packages/{id}/manage              owners, required signer, listing (owners only)
//	GET  /signup, /login, /upload, /account, /account/2fa, /organizations/{name}
//
// and the POST form handlers that go with them (uiRoutes lists them all).
func (s *Server) uiRoutes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("GET /static/{file}", "ui-static", s.handleStatic)

	handle("GET /{$}", "ui-home", s.page(s.handleHome))
	handle("GET /packages", "ui-packages", s.page(s.handlePackages))
	handle("GET /packages/{id}", "ui-package", s.page(s.handlePackagePage))
	handle("GET /packages/{id}/{version}", "ui-package", s.page(s.handlePackagePage))

	handle("GET /packages/{id}/manage", "ui-manage", s.loggedIn(s.handleManagePage))
	handle("POST /packages/{id}/owners", "ui-manage", s.form(s.handleUIAddOwner))
	handle("POST /packages/{id}/owners/{owner}/remove", "ui-manage", s.form(s.handleUIRemoveOwner))
	handle("POST /packages/{id}/required-signer", "ui-manage", s.form(s.handleUIRequiredSigner))
	handle("POST /packages/{id}/{version}/listing", "ui-manage", s.form(s.handleUIListing))

	handle("GET /signup", "ui-signup", s.handleSignupPage)
	handle("POST /signup", "ui-signup", s.handleSignup)
	handle("GET /login", "ui-login", s.handleLoginPage)
	handle("POST /login", "ui-login", s.handleUILogin)
	handle("POST /logout", "ui-logout", s.form(s.handleUILogout))

	handle("GET /account", "ui-account", s.loggedIn(s.handleAccountPage))
	handle("POST /account/2fa", "ui-2fa", s.form(s.handleUIBeginTwoFactor))
	handle("GET /account/2fa", "ui-2fa", s.loggedIn(s.handleTwoFactorPage))
	handle("POST /account/2fa/confirm", "ui-2fa", s.form(s.handleUIConfirmTwoFactor))
	handle("POST /account/2fa/disable", "ui-2fa", s.form(s.handleUIDisableTwoFactor))
	handle("POST /account/apikeys", "ui-apikeys", s.form(s.handleUICreateKey))
	handle("POST /account/apikeys/{key}/revoke", "ui-apikeys", s.form(s.handleUIRevokeKey))
	handle("POST /account/certificates", "ui-certificates", s.certificateForm(s.handleUIAddCertificate))
	handle("POST /account/certificates/{sha256}/remove", "ui-certificates", s.form(s.handleUIRemoveCertificate))
	handle("POST /account/certificate-identities/remove", "ui-certificates", s.form(s.handleUIRemoveIdentity))
	handle("POST /account/organizations", "ui-organizations", s.form(s.handleUICreateOrganization))

	handle("GET /organizations/{name}", "ui-organization", s.loggedIn(s.handleOrganizationPage))
	handle("POST /organizations/{name}/members", "ui-organization", s.form(s.handleUISetMember))
	handle("POST /organizations/{name}/members/{user}/remove", "ui-organization", s.form(s.handleUIRemoveMember))
	handle("POST /organizations/{name}/certificates", "ui-organization", s.certificateForm(s.handleUIAddCertificate))
	handle("POST /organizations/{name}/certificates/{sha256}/remove", "ui-organization", s.form(s.handleUIRemoveCertificate))
	handle("POST /organizations/{name}/certificate-identities/remove", "ui-organization", s.form(s.handleUIRemoveIdentity))

	handle("GET /upload", "ui-upload", s.loggedIn(s.handleUploadPage))
	handle("POST /upload", "ui-upload", s.handleUIUpload)
}
