package feed

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/nusig"
)

// oidSHA256 names SHA-256 in the RepositorySignatures fingerprints.
const oidSHA256 = "2.16.840.1.101.3.4.2.1"

type repoSignatures struct {
	AllRepositorySigned bool                `json:"allRepositorySigned"`
	SigningCertificates []repoCertificateJS `json:"signingCertificates"`
}

type repoCertificateJS struct {
	Fingerprints map[string]string `json:"fingerprints"`
	Subject      string            `json:"subject"`
	Issuer       string            `json:"issuer"`
	NotBefore    time.Time         `json:"notBefore"`
	NotAfter     time.Time         `json:"notAfter"`
	ContentURL   string            `json:"contentUrl"`
}

// repositoryCertificates are the certificates the feed advertises: the
// current one first, then the earlier ones.
func (s *Server) repositoryCertificates() []*x509.Certificate {
	g := s.cfg.Signing
	return append([]*x509.Certificate{g.Certificate}, g.Previous...)
}

// allSignedCache remembers that every stored version carries signature
// facts; once true it stays true while the feed signs every push.
type allSignedCache struct {
	mu      sync.Mutex
	all     bool
	checked time.Time
}

// allRepositorySigned tells clients whether every package of the feed is
// repository signed (which lets them refuse one that is not).
func (s *Server) allRepositorySigned(r *http.Request) bool {
	c := &s.allSigned
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all || time.Since(c.checked) < time.Minute {
		return c.all
	}
	n, err := s.store.CountVersionsWithoutSignatureFacts(r.Context())
	if err != nil {
		s.log.Warn("counting unsigned versions", "err", err)
		return false
	}
	c.all, c.checked = n == 0, time.Now()
	return c.all
}

// handleRepositorySignatures is GET /v3/repository-signatures/index.json,
// the RepositorySignatures resource that trustedSigners repository entries
// are made from (dotnet nuget trust source).
func (s *Server) handleRepositorySignatures(w http.ResponseWriter, r *http.Request) {
	out := repoSignatures{AllRepositorySigned: s.allRepositorySigned(r), SigningCertificates: []repoCertificateJS{}}
	for _, c := range s.repositoryCertificates() {
		fp := strings.ToLower(nusig.Fingerprint(c))
		out.SigningCertificates = append(out.SigningCertificates, repoCertificateJS{
			Fingerprints: map[string]string{oidSHA256: fp},
			Subject:      c.Subject.String(),
			Issuer:       c.Issuer.String(),
			NotBefore:    c.NotBefore.UTC(),
			NotAfter:     c.NotAfter.UTC(),
			ContentURL:   s.URL("/v3/repository-signatures/" + fp + ".crt"),
		})
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, r, http.StatusOK, out)
}

// handleRepositoryCertificate is GET /v3/repository-signatures/{sha256}.crt:
// one repository certificate, DER.
func (s *Server) handleRepositoryCertificate(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.ToLower(r.PathValue("file")), ".crt")
	if _, err := hex.DecodeString(name); !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	for _, c := range s.repositoryCertificates() {
		if strings.EqualFold(nusig.Fingerprint(c), name) {
			w.Header().Set("Content-Type", "application/pkix-cert")
			w.Header().Set("Cache-Control", "public, max-age=86400")
			w.Write(c.Raw)
			return
		}
	}
	http.NotFound(w, r)
}

// signatureJSON is a version's signature facts as the API and the
// registration show them.
type signatureJSON struct {
	// Status is "valid", "grace", "invalid" or "unsigned" (no author
	// signature), or "none" for a version the feed stored without signing.
	Status string `json:"status"`
	signatureFacts
}

func versionSignature(v store.Version) *signatureJSON {
	if v.Signature == nil {
		return &signatureJSON{Status: "none"}
	}
	var f signatureFacts
	if err := json.Unmarshal(v.Signature, &f); err != nil {
		return &signatureJSON{Status: "none"}
	}
	return &signatureJSON{Status: v.SignatureStatus, signatureFacts: f}
}

// handleSignature is GET /api/v1/packages/{id}/{version}/signature: the
// signature facts of a version, public.
func (s *Server) handleSignature(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.Version(r.Context(), r.PathValue("id"), normalVersion(r.PathValue("version")))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such package version")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		*signatureJSON
	}{v.PackageID, v.Version, versionSignature(v)})
}
