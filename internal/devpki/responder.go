package devpki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxOCSPRequest bounds a request body: an OCSP request for one certificate
// is about 100 bytes; 16 KiB allows many certificates and extensions.
const maxOCSPRequest = 16 << 10

// Validity of what the responder produces: OCSP responses are good for an
// hour and CRLs for a day, typical of public CAs' short end.
const (
	OCSPValidity = time.Hour
	CRLValidity  = 24 * time.Hour
)

// Mode makes the responder misbehave, for tests of unreachable or broken
// revocation servers.
type Mode int

const (
	// ModeNormal answers every request properly.
	ModeNormal Mode = iota
	// ModeDown answers HTTP 503 to everything.
	ModeDown
	// ModeGarbage answers HTTP 200 with bytes that are neither OCSP nor a
	// CRL.
	ModeGarbage
	// ModeTryLater answers OCSP requests with the tryLater status (RFC 6960
	// 2.3); CRLs are still served.
	ModeTryLater
)

// Responder is an OCSP responder and CRL server on 127.0.0.1 for CAs of this
// package. Register a CA before it issues certificates, so that they carry
// the responder's URLs. Certificates the CA issued are "good" until Revoke;
// serial numbers it never issued are "unknown". Safe for concurrent use.
type Responder struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string

	srv *httptest.Server

	mu        sync.Mutex
	cas       []*responderCA
	mode      Mode
	delay     time.Duration
	now       func() time.Time
	ocspCount int
	crlCount  int
}

type responderCA struct {
	ca *CA
	// cert and key sign OCSP responses: the CA itself, or a delegated
	// responder certificate (RFC 6960 4.2.2.2).
	cert    *x509.Certificate
	key     crypto.Signer
	revoked map[string]x509.RevocationListEntry
}

// NewResponder starts a responder on 127.0.0.1. Close it when done.
func NewResponder() *Responder {
	r := &Responder{now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ocsp/{ca}", r.serveOCSP)
	mux.HandleFunc("GET /ocsp/{ca}/{req...}", r.serveOCSP)
	mux.HandleFunc("GET /crl/{file}", r.serveCRL)
	r.srv = httptest.NewServer(mux)
	r.URL = r.srv.URL
	return r
}

// Close stops the server.
func (r *Responder) Close() { r.srv.Close() }

// Register serves OCSP and CRLs for ca, whose own key signs the OCSP
// responses, and sets ca's OCSPServer and CRLDistributionPoints so that the
// certificates it issues from now on point here.
func (r *Responder) Register(ca *CA) {
	r.register(ca, ca.Cert, ca.Key)
}

// RegisterDelegated is Register with OCSP responses signed by a delegated
// responder certificate that ca issues (EKU OCSPSigning, id-pkix-ocsp-nocheck)
// for key; a new RSA key is made when key is nil. The responses embed that
// certificate.
func (r *Responder) RegisterDelegated(ca *CA, key crypto.Signer) (*x509.Certificate, error) {
	id, err := ca.Issue(LeafOptions{
		CommonName:  ca.Cert.Subject.CommonName + " OCSP Responder",
		Key:         key,
		Bits:        2048,
		EKUs:        []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		OCSPNoCheck: true,
		OCSPServer:  []string{},
	})
	if err != nil {
		return nil, err
	}
	r.register(ca, id.Certificate, id.Signer)
	return id.Certificate, nil
}

func (r *Responder) register(ca *CA, cert *x509.Certificate, key crypto.Signer) {
	r.mu.Lock()
	n := len(r.cas)
	r.cas = append(r.cas, &responderCA{ca: ca, cert: cert, key: key, revoked: map[string]x509.RevocationListEntry{}})
	r.mu.Unlock()
	ca.OCSPServer = []string{r.OCSPURL(n)}
	ca.CRLDistributionPoints = []string{r.CRLURL(n)}
}

// OCSPURL is the OCSP URL of the n-th registered CA (from 0).
func (r *Responder) OCSPURL(n int) string { return fmt.Sprintf("%s/ocsp/%d", r.URL, n) }

// CRLURL is the CRL URL of the n-th registered CA (from 0).
func (r *Responder) CRLURL(n int) string { return fmt.Sprintf("%s/crl/%d.crl", r.URL, n) }

// Revoke marks c revoked at at for reason (RFC 5280 5.3.1) in OCSP answers
// and CRLs. c must have been issued by a registered CA.
func (r *Responder) Revoke(c *x509.Certificate, at time.Time, reason int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rc := range r.cas {
		if bytes.Equal(rc.ca.Cert.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(rc.ca.Cert) == nil {
			rc.revoked[c.SerialNumber.String()] = Revoked(c, at, reason)
			return nil
		}
	}
	return fmt.Errorf("devpki: %q was not issued by a CA registered with the responder", c.Subject.String())
}

// SetMode changes how the responder behaves from the next request on.
func (r *Responder) SetMode(m Mode) {
	r.mu.Lock()
	r.mode = m
	r.mu.Unlock()
}

// SetDelay makes every answer wait d first (or until the client gives up),
// for timeout tests.
func (r *Responder) SetDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

// SetNow sets the clock used for thisUpdate and nextUpdate; time.Now by
// default.
func (r *Responder) SetNow(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// Requests returns how many OCSP and CRL requests were received, for tests
// of caching.
func (r *Responder) Requests() (ocspRequests, crlRequests int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ocspCount, r.crlCount
}

// begin counts a request, applies the delay and returns the mode, the clock
// and the CA the request names (nil when unknown). It reports false when the
// client went away while waiting.
func (r *Responder) begin(req *http.Request, id string, isOCSP bool) (Mode, time.Time, *responderCA, bool) {
	r.mu.Lock()
	if isOCSP {
		r.ocspCount++
	} else {
		r.crlCount++
	}
	mode, delay, now := r.mode, r.delay, r.now()
	var rc *responderCA
	if n, err := strconv.Atoi(id); err == nil && n >= 0 && n < len(r.cas) {
		rc = r.cas[n]
	}
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return mode, now, rc, false
		}
	}
	return mode, now, rc, true
}

func (r *Responder) serveOCSP(w http.ResponseWriter, req *http.Request) {
	// The request is read before any delay, so that the server notices a
	// client that gives up while it waits (net/http only watches the
	// connection once the body has been read).
	der, derErr := ocspRequestBytes(req)
	mode, now, rc, ok := r.begin(req, req.PathValue("ca"), true)
	if !ok || misbehave(w, mode) {
		return
	}
	reply := func(b []byte) {
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(b)
	}
	if mode == ModeTryLater {
		reply(ocsp.TryLaterErrorResponse)
		return
	}
	if derErr != nil {
		reply(ocsp.MalformedRequestErrorResponse)
		return
	}
	q, err := ocsp.ParseRequest(der)
	if err != nil {
		reply(ocsp.MalformedRequestErrorResponse)
		return
	}
	if rc == nil || !rc.matches(q) {
		reply(ocsp.UnauthorizedErrorResponse)
		return
	}
	resp, err := r.ocspResponse(rc, q, now)
	if err != nil {
		reply(ocsp.InternalErrorErrorResponse)
		return
	}
	reply(resp)
}

// ocspRequestBytes reads a POST body or a GET path's base64 request (RFC
// 6960 A.1).
func ocspRequestBytes(req *http.Request) ([]byte, error) {
	if req.Method == http.MethodGet {
		s, err := url.PathUnescape(req.PathValue("req"))
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(s)
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, maxOCSPRequest+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxOCSPRequest {
		return nil, errors.New("devpki: OCSP request too large")
	}
	return b, nil
}

// matches reports whether q names rc's CA as the issuer.
func (rc *responderCA) matches(q *ocsp.Request) bool {
	if !q.HashAlgorithm.Available() {
		return false
	}
	want, err := ocspKeyHash(rc.ca.Cert, q.HashAlgorithm)
	if err != nil {
		return false
	}
	h := q.HashAlgorithm.New()
	h.Write(rc.ca.Cert.RawSubject)
	return bytes.Equal(q.IssuerKeyHash, want) && bytes.Equal(q.IssuerNameHash, h.Sum(nil))
}

// ocspKeyHash is the hash of the issuer's subjectPublicKey BIT STRING value
// (RFC 6960 4.1.1).
func ocspKeyHash(issuer *x509.Certificate, h crypto.Hash) ([]byte, error) {
	ski, err := subjectPublicKeyBits(issuer)
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(ski)
	return d.Sum(nil), nil
}

func (r *Responder) ocspResponse(rc *responderCA, q *ocsp.Request, now time.Time) ([]byte, error) {
	tmpl := ocsp.Response{
		SerialNumber: q.SerialNumber,
		ThisUpdate:   now.Add(-time.Minute),
		NextUpdate:   now.Add(OCSPValidity),
		IssuerHash:   q.HashAlgorithm,
		Status:       ocsp.Unknown,
	}
	r.mu.Lock()
	e, revoked := rc.revoked[q.SerialNumber.String()]
	r.mu.Unlock()
	switch {
	case revoked:
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevocationTime, e.ReasonCode
	case rc.ca.Issued(q.SerialNumber):
		tmpl.Status = ocsp.Good
	}
	if rc.cert != rc.ca.Cert {
		tmpl.Certificate = rc.cert
	}
	return ocsp.CreateResponse(rc.ca.Cert, rc.cert, tmpl, rc.key)
}

func (r *Responder) serveCRL(w http.ResponseWriter, req *http.Request) {
	id, ok := strings.CutSuffix(req.PathValue("file"), ".crl")
	mode, now, rc, alive := r.begin(req, id, false)
	if !alive || misbehave(w, mode) {
		return
	}
	if !ok || rc == nil {
		http.NotFound(w, req)
		return
	}
	r.mu.Lock()
	entries := make([]x509.RevocationListEntry, 0, len(rc.revoked))
	for _, e := range rc.revoked {
		entries = append(entries, e)
	}
	r.mu.Unlock()
	slices.SortFunc(entries, func(a, b x509.RevocationListEntry) int { return a.SerialNumber.Cmp(b.SerialNumber) })
	der, err := rc.ca.CRL(entries, now.Add(-time.Minute), now.Add(CRLValidity))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

// misbehave answers as ModeDown or ModeGarbage ask and reports whether it
// did.
func misbehave(w http.ResponseWriter, m Mode) bool {
	switch m {
	case ModeDown:
		http.Error(w, "service unavailable (devpki.ModeDown)", http.StatusServiceUnavailable)
		return true
	case ModeGarbage:
		w.Write([]byte("this is not DER"))
		return true
	}
	return false
}
