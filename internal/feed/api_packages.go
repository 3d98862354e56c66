package feed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/store"
)

// manages reports whether the session's user may manage what the accounts
// own: it is a site administrator, one of the accounts, or an admin of an
// organisation among them.
func (s *Server) manages(ctx context.Context, a *sessionAuth, owners []store.Account) (bool, error) {
	if a.user.Admin {
		return true, nil
	}
	var ms []store.Membership
	for _, o := range owners {
		if o.ID == a.user.ID {
			return true, nil
		}
		if o.Kind != store.KindOrganization {
			continue
		}
		if ms == nil {
			var err error
			if ms, err = s.store.Memberships(ctx, a.user.ID); err != nil {
				return false, err
			}
		}
		for _, m := range ms {
			if m.Organization.ID == o.ID && m.Role == store.RoleAdmin {
				return true, nil
			}
		}
	}
	return false, nil
}

type ownerJSON struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func ownersJSON(as []store.Account) []ownerJSON {
	out := []ownerJSON{}
	for _, a := range as {
		out = append(out, ownerJSON{Name: a.Name, Kind: string(a.Kind)})
	}
	return out
}

// managedPackage loads the package in the URL and checks that the session
// may manage it, answering 404 or 403 itself when not.
func (s *Server) managedPackage(w http.ResponseWriter, r *http.Request, a *sessionAuth) (store.Package, bool) {
	p, err := s.store.Package(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no package %q", r.PathValue("id")))
		return p, false
	}
	if err != nil {
		s.internal(w, r, err)
		return p, false
	}
	ok, err := s.manages(r.Context(), a, p.Owners)
	if err != nil {
		s.internal(w, r, err)
		return p, false
	}
	if !ok {
		writeError(w, http.StatusForbidden, fmt.Sprintf("you are not an owner of %q", p.ID))
		return p, false
	}
	return p, true
}

// handleListOwners is GET /api/v1/packages/{id}/owners (public, as on
// nuget.org's package pages).
func (s *Server) handleListOwners(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Package(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no package %q", r.PathValue("id")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	signer := ""
	for _, o := range p.Owners {
		if o.ID == p.RequiredSigner {
			signer = o.Name
		}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"id": p.ID, "owners": ownersJSON(p.Owners), "requiredSigner": signer})
}

// handleAddOwner is POST /api/v1/packages/{id}/owners {"owner": name}.
func (s *Server) handleAddOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Owner string `json:"owner"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	p, ok := s.managedPackage(w, r, a)
	if !ok {
		return
	}
	acc, err := s.store.AccountByName(r.Context(), in.Owner)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no account %q", in.Owner))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := s.store.AddOwner(r.Context(), p.ID, acc.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, fmt.Sprintf("%q is an owner of %q already", acc.Name, p.ID))
			return
		}
		s.storeError(w, r, err)
		return
	}
	s.log.Info("owner added", "package", p.ID, "owner", acc.Name, "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}

// handleRemoveOwner is DELETE /api/v1/packages/{id}/owners/{owner}.
func (s *Server) handleRemoveOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	p, ok := s.managedPackage(w, r, a)
	if !ok {
		return
	}
	acc, err := s.store.AccountByName(r.Context(), r.PathValue("owner"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.store.RemoveOwner(r.Context(), p.ID, acc.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("owner removed", "package", p.ID, "owner", acc.Name, "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}

// handleSetListed is PUT /api/v1/packages/{id}/versions/{version}/listed
// {"listed": bool}.
func (s *Server) handleSetListed(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Listed *bool `json:"listed"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Listed == nil {
		writeError(w, http.StatusBadRequest, `the body needs "listed": true or false`)
		return
	}
	p, ok := s.managedPackage(w, r, a)
	if !ok {
		return
	}
	v := normalVersion(r.PathValue("version"))
	if err := s.store.SetListed(r.Context(), p.ID, v, *in.Listed); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("package listing changed", "id", p.ID, "version", v, "listed", *in.Listed, "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}

// --- ID prefix reservations ---

type reservationJSON struct {
	Pattern string      `json:"pattern"`
	Prefix  bool        `json:"prefix"`
	Owners  []ownerJSON `json:"owners"`
	Created time.Time   `json:"created"`
}

// handleListReservations is GET /api/v1/reservations (public: nuget.org
// shows reserved prefixes on package pages).
func (s *Server) handleListReservations(w http.ResponseWriter, r *http.Request) {
	rs, err := s.store.Reservations(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := []reservationJSON{}
	for _, res := range rs {
		out = append(out, reservationJSON{Pattern: res.Pattern, Prefix: res.Prefix, Owners: ownersJSON(res.Owners), Created: res.Created})
	}
	writeJSON(w, r, http.StatusOK, out)
}

// reservationPattern validates a pattern as given in the API: an id, or a
// prefix written "Contoso.*" (nuget.org's notation) or with "prefix": true.
func reservationPattern(p string, prefix bool) (string, bool, error) {
	if strings.HasSuffix(p, "*") {
		p, prefix = strings.TrimSuffix(p, "*"), true
	}
	check := strings.TrimRight(p, ".-_")
	if check == "" || len(p) > nuget.MaxIDLength || !nuget.ValidID(check) {
		return "", false, fmt.Errorf("the pattern %q is not a package id or an id prefix", p)
	}
	return p, prefix, nil
}

// requireAdmin answers 403 unless the session is a site administrator's.
func requireAdmin(w http.ResponseWriter, a *sessionAuth) bool {
	if !a.user.Admin {
		writeError(w, http.StatusForbidden, "only an administrator can manage ID prefix reservations")
		return false
	}
	return true
}

// handleCreateReservation is POST /api/v1/reservations {"pattern",
// "prefix", "owners": [names]} (administrators).
func (s *Server) handleCreateReservation(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !requireAdmin(w, a) {
		return
	}
	var in struct {
		Pattern string   `json:"pattern"`
		Prefix  bool     `json:"prefix"`
		Owners  []string `json:"owners"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	pattern, prefix, err := reservationPattern(in.Pattern, in.Prefix)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(in.Owners) == 0 {
		writeError(w, http.StatusBadRequest, "a reservation needs at least one owner")
		return
	}
	var ids []int64
	for _, name := range in.Owners {
		acc, err := s.store.AccountByName(r.Context(), name)
		if err != nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no account %q", name))
			return
		}
		ids = append(ids, acc.ID)
	}
	res, err := s.store.CreateReservation(r.Context(), pattern, prefix, ids)
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, fmt.Sprintf("%q is reserved already", pattern))
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("reservation created", "pattern", res.Pattern, "prefix", res.Prefix, "by", a.user.Name)
	writeJSON(w, r, http.StatusCreated, reservationJSON{Pattern: res.Pattern, Prefix: res.Prefix, Owners: ownersJSON(res.Owners), Created: res.Created})
}

// handleDeleteReservation is DELETE /api/v1/reservations/{pattern}.
func (s *Server) handleDeleteReservation(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !requireAdmin(w, a) {
		return
	}
	p := strings.TrimSuffix(r.PathValue("pattern"), "*")
	if err := s.store.DeleteReservation(r.Context(), p); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAddReservationOwner is POST /api/v1/reservations/{pattern}/owners
// {"owner"}.
func (s *Server) handleAddReservationOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !requireAdmin(w, a) {
		return
	}
	var in struct {
		Owner string `json:"owner"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	acc, err := s.store.AccountByName(r.Context(), in.Owner)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.store.AddReservationOwner(r.Context(), strings.TrimSuffix(r.PathValue("pattern"), "*"), acc.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRemoveReservationOwner is DELETE
// /api/v1/reservations/{pattern}/owners/{owner}.
func (s *Server) handleRemoveReservationOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !requireAdmin(w, a) {
		return
	}
	acc, err := s.store.AccountByName(r.Context(), r.PathValue("owner"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.store.RemoveReservationOwner(r.Context(), strings.TrimSuffix(r.PathValue("pattern"), "*"), acc.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- organisations ---

// handleCreateOrganization is POST /api/v1/organizations {"name","email"}:
// the session's user becomes its first admin.
func (s *Server) handleCreateOrganization(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if err := checkAccountName(in.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkEmail(in.Email); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	o, err := s.store.CreateOrganization(r.Context(), in.Name, in.Email, a.user.ID)
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, fmt.Sprintf("the name %q is taken", in.Name))
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("organization created", "name", o.Name, "by", a.user.Name)
	writeJSON(w, r, http.StatusCreated, map[string]any{"name": o.Name, "email": o.Email, "created": o.Created})
}

// organization loads the organisation in the URL; admin requires the
// session to be one of its admins (or a site administrator), otherwise
// any member.
func (s *Server) organization(w http.ResponseWriter, r *http.Request, a *sessionAuth, admin bool) (store.Account, bool) {
	o, err := s.store.AccountByName(r.Context(), r.PathValue("name"))
	if err != nil || o.Kind != store.KindOrganization {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no organization %q", r.PathValue("name")))
		return o, false
	}
	if a.user.Admin {
		return o, true
	}
	ms, err := s.store.Memberships(r.Context(), a.user.ID)
	if err != nil {
		s.internal(w, r, err)
		return o, false
	}
	for _, m := range ms {
		if m.Organization.ID == o.ID && (!admin || m.Role == store.RoleAdmin) {
			return o, true
		}
	}
	writeError(w, http.StatusForbidden, fmt.Sprintf("you are not an admin of %q", o.Name))
	return o, false
}

// handleListMembers is GET /api/v1/organizations/{name}/members.
func (s *Server) handleListMembers(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	o, ok := s.organization(w, r, a, false)
	if !ok {
		return
	}
	ms, err := s.store.Members(r.Context(), o.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type member struct {
		Username string    `json:"username"`
		Role     string    `json:"role"`
		Since    time.Time `json:"since"`
	}
	out := []member{}
	for _, m := range ms {
		out = append(out, member{Username: m.User.Name, Role: string(m.Role), Since: m.Since})
	}
	writeJSON(w, r, http.StatusOK, out)
}

// handleSetMember is PUT /api/v1/organizations/{name}/members/{user}
// {"role": "admin"|"collaborator"}.
func (s *Server) handleSetMember(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Role string `json:"role"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	o, ok := s.organization(w, r, a, true)
	if !ok {
		return
	}
	role := store.Role(in.Role)
	if role != store.RoleAdmin && role != store.RoleCollaborator {
		writeError(w, http.StatusBadRequest, `role must be "admin" or "collaborator"`)
		return
	}
	u, err := s.store.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no user %q", r.PathValue("user")))
		return
	}
	if err := s.store.SetMember(r.Context(), o.ID, u.ID, role); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRemoveMember is DELETE /api/v1/organizations/{name}/members/{user}.
func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	o, ok := s.organization(w, r, a, true)
	if !ok {
		return
	}
	u, err := s.store.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no user %q", r.PathValue("user")))
		return
	}
	if err := s.store.RemoveMember(r.Context(), o.ID, u.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleSetRequiredSigner is PUT /api/v1/packages/{id}/required-signer
// {"account": name}: only that owner's certificates may then sign new
// versions (nuget.org's required signer); "" clears it, so that any
// owner's may.
func (s *Server) handleSetRequiredSigner(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Account *string `json:"account"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.Account == nil {
		writeError(w, http.StatusBadRequest, `the body needs "account": an owner's name, or "" for none`)
		return
	}
	p, ok := s.managedPackage(w, r, a)
	if !ok {
		return
	}
	var id int64
	if *in.Account != "" {
		acc, err := s.store.AccountByName(r.Context(), *in.Account)
		if err != nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no account %q", *in.Account))
			return
		}
		id = acc.ID
	}
	if err := s.store.SetRequiredSigner(r.Context(), p.ID, id); err != nil {
		if errors.Is(err, store.ErrNotOwner) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not an owner of %q", *in.Account, p.ID))
			return
		}
		s.storeError(w, r, err)
		return
	}
	s.log.Info("required signer changed", "package", p.ID, "signer", *in.Account, "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}
