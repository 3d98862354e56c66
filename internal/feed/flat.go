package feed

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/store"
)

// handleFlatVersions is GET /v3-flatcontainer/{id}/index.json: every
// version, listed or not, lower-cased and normalised, in version order.
func (s *Server) handleFlatVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.store.Versions(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(v.Version)
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, r, http.StatusOK, map[string][]string{"versions": out})
}

// handleFlatFile is GET /v3-flatcontainer/{id}/{version}/{file}, where file
// is {id}.{version}.nupkg, {id}.nuspec or readme (lower-cased, as NuGet
// clients build the URLs; other cases are accepted too).
func (s *Server) handleFlatFile(w http.ResponseWriter, r *http.Request) {
	id, version, file := r.PathValue("id"), r.PathValue("version"), strings.ToLower(r.PathValue("file"))
	lid, lver := strings.ToLower(id), strings.ToLower(normalVersion(version))
	var suffix, ctype string
	switch file {
	case lid + "." + lver + ".nupkg":
		suffix, ctype = blobNupkg, "application/octet-stream"
	case lid + ".nuspec":
		suffix, ctype = blobNuspec, "text/xml; charset=utf-8"
	case "readme":
		suffix, ctype = blobReadme, "text/markdown; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	v, err := s.blobRef(r.Context(), id, lver)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	obj, err := s.blobs.Open(r.Context(), blobKey(v.id, v.version, v.sha512, suffix))
	if errors.Is(err, blob.ErrNotExist) {
		http.NotFound(w, r) // a version without a readme
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	// The bytes of a version never change: its blob names carry their hash.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hex.EncodeToString(v.sha512)[:hashPrefix]+suffix+`"`)
	if suffix == blobNupkg && r.Method == http.MethodGet && r.Header.Get("Range") == "" {
		s.countDownload(v.id, v.version)
	}
	http.ServeContent(w, r, "", v.published, obj)
}
