// Package tsa is Signet's RFC 3161 timestamp authority: an http.Handler
// that answers TimeStampReq messages (RFC 3161 section 3.4, HTTP transport)
// with tokens NuGet accepts (NuGet spec section 4).
//
// What a token says: the TSTInfo carries the request's imprint and nonce, the
// server's policy, a serial that never repeats (see SerialSource), genTime in
// UTC truncated to Server.Precision (whole seconds by default, so genTime is
// never later than the true time) and an accuracy (one second by default,
// which covers the truncation). It is signed with signed attributes
// content-type (id-ct-TSTInfo), signing-time, message-digest and ESS
// signing-certificate-v2 (SHA-256) plus signing-certificate (v1, SHA-1) for
// verifiers that only know v1; the signer digest is the imprint's hash. The
// TSA certificate and Chain are included when the request sets certReq.
//
// Requests the server refuses get a TimeStampResp with status rejection and
// a failInfo: badAlg for SHA-1 or an unknown hash, badDataFormat for
// malformed DER or a digest of the wrong length, badRequest for a version
// other than 1, unacceptedPolicy for a policy other than the server's,
// unacceptedExtension for any extension (none is supported), and
// systemFailure (with HTTP 500) when a serial cannot be reserved, the
// certificate is not valid at the current time, or signing fails.
package tsa

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/signet-nuget/signet/internal/tsp"
)

// DefaultPolicy is the TSA policy OID used when Server.Policy is nil. It is
// 1.2.3.4.1, the example policy of openssl's sample TSA configuration:
// Signet owns no OID arc, and inventing one under an arc it does not own
// would be worse. It identifies no published policy; a production TSA sets
// its organisation's policy OID (`signet tsa --policy`).
var DefaultPolicy = asn1.ObjectIdentifier{1, 2, 3, 4, 1}

// Defaults for Server fields left zero.
const (
	// DefaultAccuracy is the accuracy claimed in each token. One second
	// covers the truncation of genTime to whole seconds.
	DefaultAccuracy = time.Second
	// DefaultPrecision is the resolution of genTime: whole seconds, which
	// every verifier reads (fractions are legal but rarer).
	DefaultPrecision = time.Second
)

// minRSABits is the smallest TSA key NuGet accepts (NU3023).
const minRSABits = 2048

// Server is an RFC 3161 timestamp authority. The zero value is not usable:
// Certificate and Signer are required. Call Validate before serving.
type Server struct {
	// Certificate is the TSA certificate (required). It must carry the
	// id-kp-timeStamping EKU, marked critical (RFC 3161 section 2.3), and an
	// RSA key of at least 2048 bits (NuGet, NU3023).
	Certificate *x509.Certificate
	// Chain holds the certificates above Certificate (intermediates, and
	// the root if wanted), included in tokens when certReq is set.
	Chain []*x509.Certificate
	// Signer holds the private key of Certificate (required).
	Signer crypto.Signer
	// Policy is the TSA policy OID; nil means DefaultPolicy.
	Policy asn1.ObjectIdentifier
	// Accuracy is the accuracy claimed; zero means DefaultAccuracy and a
	// negative value omits the field.
	Accuracy time.Duration
	// Precision is the resolution genTime is truncated to; zero means
	// DefaultPrecision. Use time.Millisecond for fractional genTimes.
	Precision time.Duration
	// Serials hands out serial numbers; nil means a RandomSerials made on
	// first use.
	Serials SerialSource
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request; nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the configuration: a certificate fit for timestamping
// whose key is the Signer's.
func (s *Server) Validate() error {
	if s.Certificate == nil || s.Signer == nil {
		return errors.New("tsa: a certificate and a signer are required")
	}
	pub, ok := s.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("tsa: the certificate key must be RSA (NuGet accepts no other, NU3023)")
	}
	if pub.N.BitLen() < minRSABits {
		return fmt.Errorf("tsa: the certificate key has %d bits, NuGet requires at least %d (NU3023)", pub.N.BitLen(), minRSABits)
	}
	if sp, ok := s.Signer.Public().(*rsa.PublicKey); !ok || !sp.Equal(pub) {
		return errors.New("tsa: the signer's key does not match the certificate")
	}
	switch s.Certificate.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA:
	default:
		return fmt.Errorf("tsa: the certificate is signed with %v; NuGet requires sha256/384/512WithRSA (NU3022)", s.Certificate.SignatureAlgorithm)
	}
	if err := tsp.CheckTimestampingEKU(s.Certificate, false); err != nil {
		return fmt.Errorf("tsa: %w", err)
	}
	return nil
}

func (s *Server) policy() asn1.ObjectIdentifier {
	if s.Policy == nil {
		return DefaultPolicy
	}
	return s.Policy
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// ServeHTTP answers POSTed timestamp queries (RFC 3161 section 3.4).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	log := s.logger().With("remote", r.RemoteAddr, "method", r.Method)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tsa: POST a timestamp query", http.StatusMethodNotAllowed)
		log.Info("tsa request refused", "http_status", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != tsp.ContentTypeQuery {
		http.Error(w, "tsa: content type must be "+tsp.ContentTypeQuery, http.StatusUnsupportedMediaType)
		log.Info("tsa request refused", "http_status", http.StatusUnsupportedMediaType, "content_type", r.Header.Get("Content-Type"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tsp.MaxRequestSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("tsa: request larger than %d bytes", tsp.MaxRequestSize), http.StatusRequestEntityTooLarge)
			log.Info("tsa request refused", "http_status", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "tsa: unreadable request body", http.StatusBadRequest)
		log.Info("tsa request unreadable", "err", err)
		return
	}
	resp, httpStatus, info := s.respond(body)
	der, err := resp.Marshal()
	if err != nil {
		http.Error(w, "tsa: internal error", http.StatusInternalServerError)
		log.Error("tsa response not encodable", "err", err)
		return
	}
	w.Header().Set("Content-Type", tsp.ContentTypeReply)
	w.WriteHeader(httpStatus)
	w.Write(der)
	attrs := append(info, "status", resp.Status.String(), "http_status", httpStatus,
		"duration", time.Since(start).Round(time.Microsecond))
	if resp.FailInfo != 0 {
		attrs = append(attrs, "fail_info", resp.FailInfo.String())
	}
	if httpStatus >= 500 {
		log.Error("tsa request failed", attrs...)
	} else {
		log.Info("tsa request", attrs...)
	}
}

// respond turns a request body into a response, the HTTP status to send it
// with, and log attributes. Nothing secret goes into the attributes: the
// imprint and nonce are public, but only their presence and sizes are logged.
func (s *Server) respond(body []byte) (*tsp.Response, int, []any) {
	req, err := tsp.ParseRequest(body)
	if err != nil {
		fi := tsp.FailBadDataFormat
		switch {
		case errors.Is(err, tsp.ErrUnsupportedHash):
			fi = tsp.FailBadAlg
		case errors.Is(err, tsp.ErrUnsupportedVersion):
			fi = tsp.FailBadRequest
		}
		return reject(fi, err.Error()), http.StatusOK, []any{"err", err}
	}
	info := []any{"hash", req.Hash.String(), "nonce", req.Nonce != nil, "cert_req", req.CertReq}
	switch {
	case !tsp.AllowedHash(req.Hash):
		return reject(tsp.FailBadAlg, fmt.Sprintf("%s is not accepted; use SHA-256, SHA-384 or SHA-512", req.Hash)), http.StatusOK, info
	case req.Policy != nil && !req.Policy.Equal(s.policy()):
		return reject(tsp.FailUnacceptedPolicy, fmt.Sprintf("policy %s is not offered; this TSA issues under %s", req.Policy, s.policy())), http.StatusOK, info
	case len(req.Extensions) > 0:
		return reject(tsp.FailUnacceptedExtension, "no request extension is supported"), http.StatusOK, info
	}
	token, serial, err := s.issue(req)
	if err != nil {
		return reject(tsp.FailSystemFailure, "the timestamp could not be issued"), http.StatusInternalServerError, append(info, "err", err)
	}
	return &tsp.Response{Status: tsp.StatusGranted, Token: token}, http.StatusOK, append(info, "serial", serial.String())
}

// reject builds a rejection response.
func reject(fi tsp.FailInfo, text string) *tsp.Response {
	return &tsp.Response{Status: tsp.StatusRejection, StatusStrings: []string{text}, FailInfo: fi}
}
