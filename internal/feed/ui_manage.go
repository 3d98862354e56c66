package feed

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/signet-nuget/signet/internal/store"
)

// Package management for owners (/packages/{id}/manage): co-owners, the
// required signer, and listing. The forms drive the package handlers of
// the JSON API in-process.

// manageData is the management page's.
type manageData struct {
	ID             string
	Owners         []store.Account
	RequiredSigner string
	Versions       []versionLine
}

// handleManagePage is GET /packages/{id}/manage.
func (s *Server) handleManagePage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	s.managePage(w, r, a, http.StatusOK, "")
}

func (s *Server) managePage(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, errMsg string) {
	ctx := r.Context()
	p, err := s.store.Package(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, a, http.StatusNotFound, fmt.Sprintf("There is no package %q on this feed.", r.PathValue("id")))
		return
	}
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	ok, err := s.manages(ctx, a, p.Owners)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	if !ok {
		s.errorPage(w, r, a, http.StatusForbidden, fmt.Sprintf("You are not an owner of %s.", p.ID))
		return
	}
	vs, err := s.store.Versions(ctx, p.ID)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	counts, _, err := s.store.Downloads(ctx, p.ID)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d := manageData{ID: p.ID, Owners: p.Owners, Versions: versionRows(vs, counts, -1)}
	for _, o := range p.Owners {
		if o.ID == p.RequiredSigner {
			d.RequiredSigner = o.Name
		}
	}
	s.render(w, r, status, "manage", a, &uiPage{Title: "Manage " + p.ID, Error: errMsg, NoStore: true, Data: d})
}

// manageDone redirects to the management page with a confirmation.
func (s *Server) manageDone(w http.ResponseWriter, r *http.Request, done string) {
	s.redirect(w, r, joinURL("", "/packages", r.PathValue("id"), "manage")+"?done="+done)
}

// handleUIAddOwner is POST /packages/{id}/owners.
func (s *Server) handleUIAddOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	owner := strings.TrimSpace(r.PostFormValue("owner"))
	if owner == "" {
		s.managePage(w, r, a, http.StatusBadRequest, "Type the name of the user or organization to add.")
		return
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodPost, json: map[string]string{"owner": owner},
		path: []string{"id", r.PathValue("id")}}, as(a, s.handleAddOwner))
	if !ans.ok() {
		s.managePage(w, r, a, ans.status, ans.message())
		return
	}
	s.manageDone(w, r, "owner-added")
}

// handleUIRemoveOwner is POST /packages/{id}/owners/{owner}/remove.
func (s *Server) handleUIRemoveOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ans := s.callAPI(w, r, apiCall{method: http.MethodDelete, path: []string{"id", r.PathValue("id"), "owner", r.PathValue("owner")}},
		as(a, s.handleRemoveOwner))
	if !ans.ok() {
		s.managePage(w, r, a, ans.status, ans.message())
		return
	}
	s.manageDone(w, r, "owner-removed")
}

// handleUIRequiredSigner is POST /packages/{id}/required-signer.
func (s *Server) handleUIRequiredSigner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	signer := r.PostFormValue("signer")
	ans := s.callAPI(w, r, apiCall{method: http.MethodPut, json: map[string]*string{"account": &signer},
		path: []string{"id", r.PathValue("id")}}, as(a, s.handleSetRequiredSigner))
	if !ans.ok() {
		s.managePage(w, r, a, ans.status, ans.message())
		return
	}
	s.manageDone(w, r, "signer-saved")
}

// handleUIListing is POST /packages/{id}/{version}/listing with listed=
// true or false.
func (s *Server) handleUIListing(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	listed, ok := parseFlag(r.PostFormValue("listed"))
	if !ok {
		s.managePage(w, r, a, http.StatusBadRequest, "The form's listed field must be true or false.")
		return
	}
	ans := s.callAPI(w, r, apiCall{method: http.MethodPut, json: map[string]bool{"listed": listed},
		path: []string{"id", r.PathValue("id"), "version", r.PathValue("version")}}, as(a, s.handleSetListed))
	if !ans.ok() {
		s.managePage(w, r, a, ans.status, ans.message())
		return
	}
	if listed {
		s.manageDone(w, r, "listed")
		return
	}
	s.manageDone(w, r, "unlisted")
}
