package feed

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
)

// routes builds the feed's handler: every route is registered under the
// base URL's path prefix.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+s.prefix+path, s.instrument(route, h))
	}

	handle("GET /v3/index.json", "index", s.handleIndex)

	handle("GET /v3-flatcontainer/{id}/index.json", "flat-versions", s.handleFlatVersions)
	handle("GET /v3-flatcontainer/{id}/{version}/{file}", "flat-file", s.handleFlatFile)

	for _, hive := range []string{hiveSemVer1, hiveSemVer2} {
		handle("GET /v3/"+hive+"/{id}/index.json", "registration-index", s.handleRegistrationIndex(hive))
		handle("GET /v3/"+hive+"/{id}/page/{lower}/{upper}", "registration-page", s.handleRegistrationPage(hive))
		handle("GET /v3/"+hive+"/{id}/{leaf}", "registration-leaf", s.handleRegistrationLeaf(hive))
	}
	handle("GET /v3/catalog/{id}/{leaf}", "catalog-entry", s.handleCatalogEntry)
	if s.cfg.Signing != nil {
		handle("GET /v3/repository-signatures/index.json", "repository-signatures", s.handleRepositorySignatures)
		handle("GET /v3/repository-signatures/{file}", "repository-certificate", s.handleRepositoryCertificate)
	}
	handle("GET /api/v1/packages/{id}/{version}/signature", "api-signature", s.handleSignature)
	handle("GET /v3/query", "search", s.handleSearch)
	handle("GET /v3/autocomplete", "autocomplete", s.handleAutocomplete)

	handle("PUT /api/v2/package", "push", s.handlePush)
	handle("PUT /api/v2/package/", "push", s.handlePush)
	handle("DELETE /api/v2/package/{id}/{version}", "unlist", s.handleListing)
	handle("POST /api/v2/package/{id}/{version}", "relist", s.handleListing)

	s.apiRoutes(handle)
	s.uiRoutes(handle)

	handle("GET /health", "health", s.handleHealth)
	handle("GET /metrics", "metrics", s.handleMetrics)
	return mux
}

// recorder captures a response's status for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("feed: response cannot be hijacked")
	}
	r.hijacked = true
	return hj.Hijack()
}

func (r *recorder) recordStatus(code int) { r.status = code }

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument wraps a handler with a panic guard, metrics and a log line
// per request (never with query strings or headers, which may hold keys).
func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "route", route, "panic", fmt.Sprint(p))
				if rec.status == 0 && !rec.hijacked {
					writeError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.request(route, r.Method, status, d)
			level := s.log.Debug
			if status >= 500 {
				level = s.log.Warn
			}
			level("request", "method", r.Method, "route", route, "path", r.URL.Path, "status", status, "duration", d)
		}()
		h(rec, r)
	})
}

// writeJSON answers with v as JSON, compressed when the client accepts gzip
// (NuGet clients do).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if r != nil && len(b) > 1024 && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		zw.Write(b)
		zw.Close()
		return
	}
	w.WriteHeader(status)
	w.Write(b)
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// apiError is the body of every /api/v1 error.
type apiError struct {
	Error string `json:"error"`
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, nil, status, apiError{Error: msg})
}

// internal logs an unexpected error and answers 500 without its details.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}

// normalVersion is the store's form of a version given in a URL: NuGet's
// normalisation, or the text as given when it does not parse (it will not
// be found).
func normalVersion(v string) string {
	if nv, err := nuget.ParseVersion(v); err == nil {
		return nv.String()
	}
	return v
}

// handleHealth answers 200 when the store and the blob store answer.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if _, _, err := s.store.CountUsers(ctx); err != nil {
		s.log.Warn("health: store", "err", err)
		writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "error"})
		return
	}
	if _, err := s.blobs.Exists(ctx, "health/probe"); err != nil {
		s.log.Warn("health: blobs", "err", err)
		writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "blobs": "error"})
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}
