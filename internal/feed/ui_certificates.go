package feed

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/signet-nuget/signet/internal/store"
)

// Signing certificates of the user (/account/certificates) and of an
// organisation (/organizations/{name}/certificates), and the organisation
// page with its members. The forms drive the certificate and organisation
// handlers of the JSON API in-process.

// certificateBack renders the page a certificate form came from (the
// account's, or the organisation's) with a status and an error.
func (s *Server) certificateBack(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, msg string) {
	if org := r.PathValue("name"); org != "" {
		s.organizationPage(w, r, a, org, status, msg)
		return
	}
	s.accountPage(w, r, a, status, msg)
}

// certificateDone redirects to the page a certificate form came from.
func (s *Server) certificateDone(w http.ResponseWriter, r *http.Request, done string) {
	if org := r.PathValue("name"); org != "" {
		s.redirect(w, r, joinURL("", "/organizations", org)+"?done="+done)
		return
	}
	s.redirect(w, r, "/account?done="+done)
}

// handleUIAddCertificate is POST /account/certificates and
// /organizations/{name}/certificates: the multipart form's "certificate"
// file, and its "identity" checkbox.
func (s *Server) handleUIAddCertificate(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !a.session.TwoFactor {
		s.certificateBack(w, r, a, http.StatusForbidden, msgUINeedTwoFactor)
		return
	}
	files := r.MultipartForm.File[certificateField]
	if len(files) != 1 {
		s.certificateBack(w, r, a, http.StatusBadRequest, "Choose a certificate file (.cer) to upload.")
		return
	}
	f, err := files[0].Open()
	if err != nil {
		s.certificateBack(w, r, a, http.StatusBadRequest, "The uploaded file cannot be read.")
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPEMCertificate+1))
	f.Close()
	if err != nil {
		s.certificateBack(w, r, a, http.StatusBadRequest, "The uploaded file cannot be read.")
		return
	}
	call := apiCall{method: http.MethodPost, raw: data, rawType: "application/octet-stream"}
	if identity, _ := parseFlag(r.PostFormValue(identityField)); identity {
		call.query = identityField + "=true"
	}
	if org := r.PathValue("name"); org != "" {
		call.path = []string{"name", org}
	}
	ans := s.callAPI(w, r, call, as(a, s.handleAddCertificate))
	if !ans.ok() {
		s.certificateBack(w, r, a, ans.status, ans.message())
		return
	}
	s.certificateDone(w, r, "certificate-added")
}

// handleUIRemoveCertificate is POST …/certificates/{sha256}/remove.
func (s *Server) handleUIRemoveCertificate(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !a.session.TwoFactor {
		s.certificateBack(w, r, a, http.StatusForbidden, msgUINeedTwoFactor)
		return
	}
	call := apiCall{method: http.MethodDelete, path: []string{"sha256", r.PathValue("sha256")}}
	if org := r.PathValue("name"); org != "" {
		call.path = append(call.path, "name", org)
	}
	ans := s.callAPI(w, r, call, as(a, s.handleRemoveCertificate))
	if !ans.ok() {
		s.certificateBack(w, r, a, ans.status, ans.message())
		return
	}
	s.certificateDone(w, r, "certificate-removed")
}

// handleUIRemoveIdentity is POST …/certificate-identities/remove with the
// identity's subject and issuer.
func (s *Server) handleUIRemoveIdentity(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !a.session.TwoFactor {
		s.certificateBack(w, r, a, http.StatusForbidden, msgUINeedTwoFactor)
		return
	}
	call := apiCall{method: http.MethodDelete, json: map[string]string{
		"subject": r.PostFormValue("subject"), "issuer": r.PostFormValue("issuer")}}
	if org := r.PathValue("name"); org != "" {
		call.path = []string{"name", org}
	}
	ans := s.callAPI(w, r, call, as(a, s.handleRemoveIdentity))
	if !ans.ok() {
		s.certificateBack(w, r, a, ans.status, ans.message())
		return
	}
	s.certificateDone(w, r, "identity-removed")
}

// --- organisations ---

// memberRow is a member of an organisation, as the API lists them.
type memberRow struct {
	Username string
	Role     string
}

// organizationData is the organisation page's.
type organizationData struct {
	Name    string
	Members []memberRow
	// Admin tells whether the user may manage the organisation.
	Admin        bool
	Certificates certificatesData
	Packages     []store.Package
}

// handleUICreateOrganization is POST /account/organizations.
func (s *Server) handleUICreateOrganization(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{
		"name": name, "email": strings.TrimSpace(r.PostFormValue("email"))}}, as(a, s.handleCreateOrganization))
	if !ans.ok() {
		s.accountPage(w, r, a, ans.status, ans.message())
		return
	}
	s.redirect(w, r, joinURL("", "/organizations", name)+"?done=org-created")
}

// handleOrganizationPage is GET /organizations/{name} (members only).
func (s *Server) handleOrganizationPage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	s.organizationPage(w, r, a, r.PathValue("name"), http.StatusOK, "")
}

func (s *Server) organizationPage(w http.ResponseWriter, r *http.Request, a *sessionAuth, name string, status int, errMsg string) {
	d := organizationData{Name: name}
	ans := s.callAPI(w, r, apiCall{method: http.MethodGet, path: []string{"name", name}}, as(a, s.handleListMembers))
	if !ans.ok() || ans.decode(&d.Members) != nil {
		s.apiRefused(w, r, a, ans)
		return
	}
	// The certificates are an admin's to see and manage, as in the API.
	certs, ans := s.certificatesOf(w, r, a, name)
	switch {
	case ans.ok():
		d.Admin, d.Certificates = true, certs
	case ans.status != http.StatusForbidden:
		s.apiRefused(w, r, a, ans)
		return
	}
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.uiInternal(w, r, a, err)
		return
	}
	d.Certificates.TwoFactorEnabled = err == nil && tf.Enabled
	org, err := s.store.AccountByName(r.Context(), name)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d.Name = org.Name
	if d.Packages, err = s.store.PackagesOwnedBy(r.Context(), org.ID); err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	s.render(w, r, status, "organization", a, &uiPage{Title: org.Name, Error: errMsg, NoStore: true, Data: d})
}

// handleUISetMember is POST /organizations/{name}/members: add a member or
// change a member's role.
func (s *Server) handleUISetMember(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	name, user := r.PathValue("name"), strings.TrimSpace(r.PostFormValue("username"))
	if user == "" {
		s.organizationPage(w, r, a, name, http.StatusBadRequest, "Type the username of the member.")
		return
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodPut, json: map[string]string{"role": r.PostFormValue("role")},
		path: []string{"name", name, "user", user}}, as(a, s.handleSetMember))
	if !ans.ok() {
		s.organizationPage(w, r, a, name, ans.status, ans.message())
		return
	}
	s.redirect(w, r, joinURL("", "/organizations", name)+"?done=member-saved")
}

// handleUIRemoveMember is POST /organizations/{name}/members/{user}/remove.
func (s *Server) handleUIRemoveMember(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	name := r.PathValue("name")
	ans := s.callAPI(w, r, apiCall{method: http.MethodDelete, path: []string{"name", name, "user", r.PathValue("user")}},
		as(a, s.handleRemoveMember))
	if !ans.ok() {
		s.organizationPage(w, r, a, name, ans.status, ans.message())
		return
	}
	s.redirect(w, r, joinURL("", "/organizations", name)+"?done=member-removed")
}
