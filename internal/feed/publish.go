package feed

import (
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// nuget.org's messages for the publish endpoints (spec/gallery-rules.md).
const (
	msgBadKey   = "The specified API key is invalid, has expired, or does not have permission to access the specified package."
	msgExists   = "A package with ID '%s' and version '%s' already exists and cannot be modified."
	msgReserved = "This package ID has been reserved. Please request access to upload to this reserved namespace from the owner of the reserved prefix, or re-upload the package with a different ID."
	msgNotFound = "The package '%s' with version '%s' was not found."
	msgTooLarge = "The package is larger than the feed's limit of %d bytes."
)

const (
	// multipartOverhead is what a multipart envelope adds to the package
	// it carries: boundaries and a part header, well under a kilobyte.
	multipartOverhead = 64 << 10
	// keyTouchInterval bounds how often a key's last use is written.
	keyTouchInterval = 5 * time.Minute
)

// apiKeyHeader is where NuGet clients send the API key.
const apiKeyHeader = "X-NuGet-ApiKey"

// keyAuth is an authenticated API key.
type keyAuth struct {
	key store.APIKey
}

// authKey authenticates the request's API key: nil and a message-bearing
// status when it is missing (401), malformed or unknown (403).
func (s *Server) authKey(r *http.Request) (*keyAuth, int) {
	raw := strings.TrimSpace(r.Header.Get(apiKeyHeader))
	if raw == "" {
		return nil, http.StatusUnauthorized
	}
	hash, err := account.HashAPIKey(raw)
	if err != nil {
		return nil, http.StatusForbidden
	}
	k, err := s.store.APIKeyByHash(r.Context(), hash)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("looking up API key", "err", err)
			return nil, http.StatusInternalServerError
		}
		return nil, http.StatusForbidden
	}
	if k.OwnerID != k.UserID && !s.isMember(r.Context(), k.UserID, k.OwnerID) {
		// The key acts for an organisation its creator has left.
		return nil, http.StatusForbidden
	}
	s.touchKey(k.ID)
	return &keyAuth{key: k}, 0
}

// isMember reports whether the user is a member of the organisation.
func (s *Server) isMember(ctx context.Context, userID, orgID int64) bool {
	ms, err := s.store.Memberships(ctx, userID)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.Organization.ID == orgID {
			return true
		}
	}
	return false
}

// touchKey records a key's use, at most every keyTouchInterval.
func (s *Server) touchKey(id int64) {
	now := s.now()
	s.keyTouchMu.Lock()
	last, ok := s.keyTouched[id]
	if ok && now.Sub(last) < keyTouchInterval {
		s.keyTouchMu.Unlock()
		return
	}
	s.keyTouched[id] = now
	s.keyTouchMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.TouchAPIKey(ctx, id, now); err != nil {
		s.log.Warn("recording API key use", "key", id, "err", err)
	}
}

// allow checks the key's grant for an action on a package id.
func (s *Server) allow(a *keyAuth, action account.Action, id string, exists bool) bool {
	err := account.Authorize(account.KeyGrant{Scopes: a.key.Scopes, Globs: a.key.Globs, Expires: a.key.Expires, Now: s.now()},
		action, id, exists)
	return err == nil
}

// handlePush is PUT /api/v2/package.
func (s *Server) handlePush(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	status, msg := s.push(w, r)
	s.metrics.push(status, s.now().Sub(start))
	if status == http.StatusCreated {
		w.WriteHeader(http.StatusCreated)
		return
	}
	v2Error(w, r, status, msg)
}

// push runs the push pipeline for an API key and returns the status and
// message to answer with.
func (s *Server) push(w http.ResponseWriter, r *http.Request) (int, string) {
	auth, status := s.authKey(r)
	if auth == nil {
		return status, msgBadKey
	}
	f, size, status, msg := s.spool(w, r)
	if f == nil {
		return status, msg
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	status, msg, _ = s.publish(r.Context(), f, size, s.keyPusher(auth))
	return status, msg
}

// A pusher is who a push acts for: an API key, or a web UI session.
type pusher struct {
	// owner decides, once the package id is known, which account the
	// version is pushed as (the owner of a new id): pkg is the id's
	// registration when exists. A refusal is a status and a message.
	owner func(id string, pkg store.Package, exists bool) (account int64, status int, msg string)
	// notOwner is the message when the commit finds that account no
	// longer an owner.
	notOwner string
	// log names the pusher in the log line of a stored push.
	log []any
}

// keyPusher is the pusher of an API key: its scopes and globs, and the
// account it acts for.
func (s *Server) keyPusher(auth *keyAuth) pusher {
	return pusher{
		owner: func(id string, pkg store.Package, exists bool) (int64, int, string) {
			if !s.allow(auth, account.ActionPush, id, exists) || exists && !ownedBy(pkg, auth.key.OwnerID) {
				return 0, http.StatusForbidden, msgBadKey
			}
			return auth.key.OwnerID, 0, ""
		},
		notOwner: msgBadKey,
		log:      []any{"key", auth.key.ID},
	}
}

// publish runs the push pipeline on a spooled package: it checks it,
// decides who pushes it, applies the signing rules, stores it and commits
// its row. It returns the status and message to answer with, and the id
// and version the package names (zero when its manifest cannot be read).
func (s *Server) publish(ctx context.Context, f *os.File, size int64, by pusher) (int, string, store.VersionRef) {
	u, err := inspect(f, size)
	if err != nil {
		var bad *badPackage
		if errors.As(err, &bad) {
			return http.StatusBadRequest, bad.msg, store.VersionRef{}
		}
		s.log.Error("inspecting package", "err", err)
		return http.StatusInternalServerError, "The package could not be read.", store.VersionRef{}
	}
	id, version := u.nuspec.ID, u.version.String()
	ref := store.VersionRef{PackageID: id, Version: version}

	// Refuse what the key or the registration refuses before writing
	// anything; the commit checks ownership again, atomically.
	pkg, err := s.store.Package(ctx, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("looking up package", "id", id, "err", err)
		return http.StatusInternalServerError, "The feed could not look up the package.", ref
	}
	owner, status, msg := by.owner(id, pkg, exists)
	if status != 0 {
		return status, msg, ref
	}
	if exists {
		if _, err := s.store.Version(ctx, id, version); err == nil {
			return http.StatusConflict, fmt.Sprintf(msgExists, id, version), ref
		}
	} else if reserved, err := s.reservedForOthers(ctx, id, owner); err != nil {
		s.log.Error("looking up reservations", "id", id, "err", err)
		return http.StatusInternalServerError, "The feed could not look up the package.", ref
	} else if reserved {
		// Before signing and storing; the commit checks again, atomically.
		return http.StatusConflict, msgReserved, ref
	}

	var served *signed
	if s.cfg.Signing != nil {
		owners, requiredSigner := pkg.Owners, pkg.RequiredSigner
		if !exists {
			acc, err := s.store.Account(ctx, owner)
			if err != nil {
				s.log.Error("looking up account", "err", err)
				return http.StatusInternalServerError, "The feed could not look up the account.", ref
			}
			owners, requiredSigner = []store.Account{acc}, 0
		}
		served, err = s.admit(ctx, u, owners, requiredSigner)
		if err != nil {
			var bad *badPackage
			if errors.As(err, &bad) {
				s.log.Info("signed push refused", "id", id, "version", version, "reason", bad.msg)
				return http.StatusBadRequest, bad.msg, ref
			}
			s.log.Error("signing package", "id", id, "version", version, "err", err)
			return http.StatusInternalServerError, "The feed could not sign the package.", ref
		}
		defer func() {
			served.file.Close()
			os.Remove(served.file.Name())
		}()
		signedUpload := *u
		signedUpload.file, signedUpload.size, signedUpload.pkg = served.file, served.size, served.pkg
		u, size = &signedUpload, served.size
	}

	var sum []byte
	if served != nil {
		sum = served.sum
	} else if sum, err = fileSHA512(u.file); err != nil {
		s.log.Error("hashing package", "err", err)
		return http.StatusInternalServerError, "The package could not be read.", ref
	}
	row, err := versionRow(u, sum, size)
	if err != nil {
		var bad *badPackage
		if errors.As(err, &bad) {
			return http.StatusBadRequest, bad.msg, ref
		}
		return http.StatusInternalServerError, "The package could not be read.", ref
	}
	if served != nil {
		row.SignerSHA256 = served.signer
		row.Signature = served.facts.json()
		row.SignatureStatus = signatureStatus(served.facts)
	}
	keys, err := s.writeBlobs(ctx, u, row)
	if err != nil {
		s.log.Error("storing package", "id", id, "version", version, "err", err)
		return http.StatusInternalServerError, "The feed could not store the package.", ref
	}
	if _, err := s.store.CreateVersion(ctx, owner, row); err != nil {
		s.dropBlobs(id, version, sum, keys)
		switch {
		case errors.Is(err, store.ErrReserved):
			return http.StatusConflict, msgReserved, ref
		case errors.Is(err, store.ErrConflict):
			return http.StatusConflict, fmt.Sprintf(msgExists, id, version), ref
		case errors.Is(err, store.ErrNotOwner):
			return http.StatusForbidden, by.notOwner, ref
		}
		s.log.Error("recording package", "id", id, "version", version, "err", err)
		return http.StatusInternalServerError, "The feed could not record the package.", ref
	}
	if served != nil && served.cert != nil {
		s.recordSigner(ctx, served)
	}
	s.log.Info("package pushed", append([]any{"id", id, "version", version, "size", size}, by.log...)...)
	return http.StatusCreated, "", ref
}

// reservedForOthers reports whether a new id falls under ID prefix
// reservations none of which the account owns (the store's rule).
func (s *Server) reservedForOthers(ctx context.Context, id string, account int64) (bool, error) {
	rs, err := s.store.MatchingReservations(ctx, id)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if ownedBy(store.Package{Owners: r.Owners}, account) {
			return false, nil
		}
	}
	return len(rs) > 0, nil
}

// ownedBy reports whether the account owns the package.
func ownedBy(p store.Package, accountID int64) bool {
	for _, o := range p.Owners {
		if o.ID == accountID {
			return true
		}
	}
	return false
}

// spool copies the uploaded package to a temporary file, enforcing the
// size limit while it streams. NuGet clients send multipart/form-data with
// the package as the first file part; a raw body is accepted too.
func (s *Server) spool(w http.ResponseWriter, r *http.Request) (*os.File, int64, int, string) {
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit+multipartOverhead {
		return nil, 0, http.StatusRequestEntityTooLarge, fmt.Sprintf(msgTooLarge, limit)
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit+multipartOverhead)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, 0, http.StatusBadRequest, "The request is not a valid multipart upload."
		}
		part, err := mr.NextPart()
		if err != nil {
			if tooLarge(err) {
				return nil, 0, http.StatusRequestEntityTooLarge, fmt.Sprintf(msgTooLarge, limit)
			}
			return nil, 0, http.StatusBadRequest, "The upload holds no package."
		}
		defer part.Close()
		src = part
	}
	return s.spoolFrom(src)
}

// spoolFrom copies a package from src to a temporary file, refusing more
// than the upload limit or nothing at all. On failure the file is nil and
// the status and message say why.
func (s *Server) spoolFrom(src io.Reader) (*os.File, int64, int, string) {
	limit := s.cfg.MaxUpload
	f, err := os.CreateTemp(s.cfg.TempDir, "signet-push-*.nupkg")
	if err != nil {
		s.log.Error("spooling upload", "err", err)
		return nil, 0, http.StatusInternalServerError, "The feed could not receive the package."
	}
	n, err := io.Copy(f, io.LimitReader(src, limit+1))
	if err == nil && n > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		if tooLarge(err) {
			return nil, 0, http.StatusRequestEntityTooLarge, fmt.Sprintf(msgTooLarge, limit)
		}
		return nil, 0, http.StatusBadRequest, "The upload was interrupted."
	}
	if n == 0 {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, http.StatusBadRequest, "The upload holds no package."
	}
	return f, n, 0, ""
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// fileSHA512 hashes the whole file.
func fileSHA512(f *os.File) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// writeBlobs stores a version's files and returns their names: the nuspec
// and readme first, the package last.
func (s *Server) writeBlobs(ctx context.Context, u *upload, row store.Version) ([]string, error) {
	var keys []string
	put := func(key string, r io.Reader) ([]byte, error) {
		keys = append(keys, key)
		_, sum, err := s.blobs.Put(ctx, key, r)
		return sum, err
	}
	nuspec, err := manifestBytes(u)
	if err != nil {
		return keys, err
	}
	if _, err := put(blobKey(row.PackageID, row.Version, row.SHA512, blobNuspec), bytes.NewReader(nuspec)); err != nil {
		return keys, err
	}
	if u.readme != "" {
		b, err := readEntry(u.pkg, u.readme, maxReadmeSize)
		if err != nil {
			return keys, refuse("The readme file %q cannot be read: %v.", u.readme, err)
		}
		if _, err := put(blobKey(row.PackageID, row.Version, row.SHA512, blobReadme), bytes.NewReader(b)); err != nil {
			return keys, err
		}
	}
	// The store's own SHA-512 of what it wrote must be the one the names
	// carry: the two hashes are one check that the bytes survived.
	sum, err := put(blobKey(row.PackageID, row.Version, row.SHA512, blobNupkg), io.NewSectionReader(u.file, 0, u.size))
	if err == nil && !bytes.Equal(sum, row.SHA512) {
		err = fmt.Errorf("feed: the stored package's SHA-512 %x differs from %x", sum, row.SHA512)
	}
	return keys, err
}

// manifestBytes returns the manifest's bytes as stored in the package.
func manifestBytes(u *upload) ([]byte, error) {
	for _, e := range u.pkg.Entries() {
		if !strings.ContainsAny(e.Name, `/\`) && strings.HasSuffix(strings.ToLower(e.Name), ".nuspec") {
			return readEntry(u.pkg, e.Name, 4<<20)
		}
	}
	return nil, errors.New("no manifest")
}

// dropBlobs deletes the blobs of a push that was not committed. Their
// names carry the package's hash, so they cannot be another push's, except
// for a concurrent push of identical bytes that won: its row names them,
// and they stay.
func (s *Server) dropBlobs(id, version string, sum []byte, keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if v, err := s.store.Version(ctx, id, version); err == nil && bytes.Equal(v.SHA512, sum) {
		return
	}
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.log.Warn("deleting blob of a refused push; the sweeper will", "key", k, "err", err)
		}
	}
}

// handleListing is DELETE (unlist) and POST (relist) of
// /api/v2/package/{id}/{version}.
func (s *Server) handleListing(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, version := r.PathValue("id"), r.PathValue("version")
	auth, status := s.authKey(r)
	if auth == nil {
		v2Error(w, r, status, msgBadKey)
		return
	}
	pkg, err := s.store.Package(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			v2Error(w, r, http.StatusNotFound, fmt.Sprintf(msgNotFound, id, version))
			return
		}
		s.internal(w, r, err)
		return
	}
	if !s.allow(auth, account.ActionUnlist, pkg.ID, true) || !ownedBy(pkg, auth.key.OwnerID) {
		v2Error(w, r, http.StatusForbidden, msgBadKey)
		return
	}
	nv := normalVersion(version)
	listed := r.Method == http.MethodPost
	if err := s.store.SetListed(ctx, id, nv, listed); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			v2Error(w, r, http.StatusNotFound, fmt.Sprintf(msgNotFound, id, version))
			return
		}
		s.internal(w, r, err)
		return
	}
	s.log.Info("package listing changed", "id", pkg.ID, "version", nv, "listed", listed, "key", auth.key.ID)
	w.WriteHeader(http.StatusOK)
}

// v2Error answers a publish request with nuget.org's shape: the message
// as the body and, on HTTP/1.x, as the status line's reason phrase, which
// is what NuGet clients print ("Response status code does not indicate
// success: 409 (A package with ID …)"). net/http always writes the
// standard phrase, so the response is written on the hijacked connection,
// which is then closed.
func v2Error(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	if hj, ok := w.(http.Hijacker); ok && r.ProtoMajor == 1 {
		// Read what is left of a modest body first, so that the client,
		// still sending, reads the answer instead of a reset connection.
		io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
		conn, buf, err := hj.Hijack()
		if err == nil {
			defer conn.Close()
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			body := msg + "\n"
			fmt.Fprintf(buf, "HTTP/1.1 %03d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
				status, reasonPhrase(msg), len(body), body)
			buf.Flush()
			if rec, ok := w.(interface{ recordStatus(int) }); ok {
				rec.recordStatus(status)
			}
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// drainLimit bounds what an error answer reads of an unread body before
// closing the connection.
const drainLimit = 8 << 20

// maxReason bounds a reason phrase; nuget.org's longest message is about
// 200 characters.
const maxReason = 512

// reasonPhrase makes msg safe for a status line: printable ASCII only, no
// CR or LF, bounded.
func reasonPhrase(msg string) string {
	b := make([]byte, 0, min(len(msg), maxReason))
	for _, c := range []byte(msg) {
		if len(b) == maxReason {
			break
		}
		if c < 0x20 || c > 0x7e {
			c = ' '
		}
		b = append(b, c)
	}
	return string(b)
}
