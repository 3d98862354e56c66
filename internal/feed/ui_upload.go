package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// The upload page (/upload): a .nupkg from the browser goes through the
// push pipeline of PUT /api/v2/package (publish), as the session's user
// instead of an API key, with the same checks and messages.

// maxUploadField bounds the form's small fields (the CSRF token, the
// owner's name) read before the file.
const maxUploadField = 1 << 10

// uploadData is the upload page's.
type uploadData struct {
	// Owners are the accounts a new package id can be uploaded as: the
	// user and the organisations the user belongs to.
	Owners    []string
	Owner     string
	MaxUpload int64
	Signing   bool
}

// handleUploadPage is GET /upload.
func (s *Server) handleUploadPage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	s.uploadPage(w, r, a, http.StatusOK, "", "")
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request, a *sessionAuth, status int, owner, errMsg string) {
	d := uploadData{Owners: []string{a.user.Name}, Owner: owner, MaxUpload: s.cfg.MaxUpload, Signing: s.cfg.Signing != nil}
	ms, err := s.store.Memberships(r.Context(), a.user.ID)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	for _, m := range ms {
		d.Owners = append(d.Owners, m.Organization.Name)
	}
	s.render(w, r, status, "upload", a, &uiPage{Title: "Upload a package", Error: errMsg, NoStore: true, Data: d})
}

// handleUIUpload is POST /upload: multipart/form-data with the CSRF token
// and the owner first and the package file ("package") after them, as the
// page's form sends them. The file is streamed to the spool, never held in
// memory.
func (s *Server) handleUIUpload(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	a, err := s.uiSession(r)
	if err != nil {
		s.uiInternal(w, r, nil, err)
		return
	}
	if a == nil {
		s.redirect(w, r, "/login?next=/upload")
		return
	}
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit+multipartOverhead {
		s.uploadPage(w, r, a, http.StatusRequestEntityTooLarge, "", fmt.Sprintf(msgTooLarge, limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		s.uploadPage(w, r, a, http.StatusBadRequest, "", "The upload form could not be read.")
		return
	}
	var token, owner string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			s.uploadPage(w, r, a, http.StatusBadRequest, owner, "Choose a package file (.nupkg) to upload.")
			return
		}
		if err != nil {
			if tooLarge(err) {
				s.uploadPage(w, r, a, http.StatusRequestEntityTooLarge, owner, fmt.Sprintf(msgTooLarge, limit))
				return
			}
			s.uploadPage(w, r, a, http.StatusBadRequest, owner, "The upload form could not be read.")
			return
		}
		switch part.FormName() {
		case csrfField:
			token = readField(part)
		case "owner":
			owner = strings.TrimSpace(readField(part))
		case "package":
			status, msg, ref := s.uploadPart(w, r, a, part, token, owner)
			part.Close()
			if status == http.StatusCreated {
				s.metrics.push(status, s.now().Sub(start))
				s.redirect(w, r, joinURL("", "/packages", ref.PackageID, ref.Version)+"?done=uploaded")
				return
			}
			if status == http.StatusForbidden && msg == msgFormExpired {
				s.errorPage(w, r, a, status, msg)
				return
			}
			s.metrics.push(status, s.now().Sub(start))
			s.uploadPage(w, r, a, status, owner, msg)
			return
		}
		part.Close()
	}
}

// readField reads a small form field.
func readField(part io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(part, maxUploadField))
	return string(b)
}

// uploadPart checks the form's token and owner, spools the package file
// and publishes it.
func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, a *sessionAuth, part io.Reader, token, owner string) (int, string, store.VersionRef) {
	if !s.sameOrigin(r) || !account.CheckCSRF(a.token, token) {
		return http.StatusForbidden, msgFormExpired, store.VersionRef{}
	}
	chosen, status, msg := s.uploadOwner(r.Context(), a, owner)
	if status != 0 {
		return status, msg, store.VersionRef{}
	}
	f, size, status, msg := s.spoolFrom(part)
	if f == nil {
		return status, msg, store.VersionRef{}
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	return s.publish(r.Context(), f, size, s.sessionPusher(r.Context(), a, chosen))
}

// uploadOwner is the account a new package id is uploaded as: the user
// (owner empty or the user's name) or an organisation the user belongs
// to.
func (s *Server) uploadOwner(ctx context.Context, a *sessionAuth, owner string) (store.Account, int, string) {
	if owner == "" || strings.EqualFold(owner, a.user.Name) {
		return a.user.Account, 0, ""
	}
	acc, err := s.store.AccountByName(ctx, owner)
	if err != nil || acc.Kind != store.KindOrganization || !s.isMember(ctx, a.user.ID, acc.ID) {
		return store.Account{}, http.StatusForbidden, fmt.Sprintf("You can upload as yourself or as an organization you belong to, not as %q.", owner)
	}
	return acc, 0, ""
}

// sessionPusher is the pusher of a web UI upload: a new id is owned by
// the chosen account; a version of an existing id is pushed as the user,
// when an owner, else as an owning organisation the user belongs to (as
// an API key of that organisation would).
func (s *Server) sessionPusher(ctx context.Context, a *sessionAuth, chosen store.Account) pusher {
	return pusher{
		owner: func(id string, pkg store.Package, exists bool) (int64, int, string) {
			if !exists {
				return chosen.ID, 0, ""
			}
			if ownedBy(pkg, a.user.ID) {
				return a.user.ID, 0, ""
			}
			if ownedBy(pkg, chosen.ID) {
				return chosen.ID, 0, ""
			}
			for _, o := range pkg.Owners {
				if o.Kind == store.KindOrganization && s.isMember(ctx, a.user.ID, o.ID) {
					return o.ID, 0, ""
				}
			}
			return 0, http.StatusForbidden, fmt.Sprintf("The package ID '%s' belongs to other owners: only they can upload versions of it.", pkg.ID)
		},
		notOwner: "You are no longer an owner of this package.",
		log:      []any{"user", a.user.Name},
	}
}
