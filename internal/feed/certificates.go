package feed

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/internal/store"
)

// Registered signing certificates (spec/gallery-rules.md, "Certificate
// registration"), for a user under /api/v1/account and for an organisation,
// by its admins, under /api/v1/organizations/{name}:
//
//	GET    …/certificates                the certificates and identities
//	POST   …/certificates[?identity=true] body: a .cer file (DER or PEM); 201 with its facts
//	DELETE …/certificates/{sha256}       unregister (the row stays)
//	DELETE …/certificate-identities      {"subject","issuer"}
//
// As on nuget.org, adding or removing needs a session that logged in with
// two-factor authentication. Unlike nuget.org, the upload is parsed at
// once and its facts shown, with warnings for what would make its packages
// fail validation; and an identity (subject and issuer) can be registered
// with it, so that renewed certificates keep working (NuGetGallery#10027).

// Bounds of a certificate upload.
const (
	// maxDERCertificate is nuget.org's limit on an uploaded .cer file;
	// real code-signing certificates are 1–2.5 KB.
	maxDERCertificate = 10000
	// maxPEMCertificate bounds a PEM file: the base64 of a maximal DER
	// certificate with line breaks (CRLF) and armour is under 14 KB.
	maxPEMCertificate = 16 << 10
	// maxMultipartOverhead bounds what a multipart/form-data upload adds
	// to the file: boundaries, part headers, the CSRF token and the
	// identity field.
	maxMultipartOverhead = 4 << 10
	// maxCertificateRequest bounds the body of an upload, enforced while
	// it is read (also by the CSRF check, which may parse the form).
	maxCertificateRequest = maxPEMCertificate + maxMultipartOverhead
)

// certificateField is the form field of the file in a multipart upload,
// identityField the field (or query parameter) asking for the identity too.
const (
	certificateField = "certificate"
	identityField    = "identity"
)

// msgNeedTwoFactorSession refuses certificate changes from a session that
// did not log in with a second factor.
const msgNeedTwoFactorSession = "certificates can be registered and removed only from a session that logged in with " +
	"two-factor authentication: enable two-factor authentication (POST /api/v1/account/2fa), " +
	"then log out and log in again with your authentication code"

// certificateTypes are the Content-Types of a raw certificate body.
var certificateTypes = map[string]bool{
	"application/pkix-cert":      true, // RFC 2585
	"application/x-x509-ca-cert": true, // what browsers and Windows send for .cer
	"application/octet-stream":   true,
	"application/x-pem-file":     true,
}

// limitBody bounds a request body to n bytes before h (and the CSRF check
// in it) reads any of it.
func limitBody(n int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h(w, r)
	}
}

// errCertificateFile prefixes the reasons parseCertificateFile gives;
// what follows it is fit to show the user.
var errCertificateFile = errors.New("feed: not a certificate file")

func certificateFileError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCertificateFile}, args...)...)
}

// certificateFileMessage is the user's part of a parseCertificateFile error.
func certificateFileMessage(err error) string {
	return strings.TrimPrefix(err.Error(), errCertificateFile.Error()+": ")
}

// parseCertificateFile reads an uploaded certificate file: exactly one
// X.509 certificate, DER (at most maxDERCertificate bytes, as nuget.org)
// or one PEM CERTIFICATE block (at most maxPEMCertificate bytes, nothing
// but white space around it). It refuses anything else with a reason:
// trailing data or a second certificate, a private key, a PFX (PKCS#12) or
// PKCS#7 file, a certificate request.
func parseCertificateFile(b []byte) (*x509.Certificate, error) {
	if len(b) == 0 {
		return nil, certificateFileError("the file is empty")
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark, as Windows editors write
	if text := bytes.TrimLeft(b, " \t\r\n"); bytes.HasPrefix(text, []byte("-----BEGIN ")) {
		if len(b) > maxPEMCertificate {
			return nil, certificateFileError("the PEM file is larger than %d bytes", maxPEMCertificate)
		}
		block, rest := pem.Decode(text)
		switch {
		case block == nil:
			return nil, certificateFileError("the PEM block is malformed")
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return nil, certificateFileError("the file holds a private key: upload only the certificate, and keep the key secret")
		case block.Type == "CERTIFICATE REQUEST" || block.Type == "NEW CERTIFICATE REQUEST":
			return nil, certificateFileError("the file is a certificate signing request, not a certificate")
		case block.Type != "CERTIFICATE":
			return nil, certificateFileError("the PEM block is %q, not \"CERTIFICATE\"", block.Type)
		}
		if rest = bytes.TrimSpace(rest); len(rest) > 0 {
			if bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
				return nil, certificateFileError("the file holds more than one PEM block: upload the signing certificate alone")
			}
			return nil, certificateFileError("the file has data after the certificate")
		}
		b = block.Bytes
	} else if len(b) > maxDERCertificate {
		return nil, certificateFileError("the file is larger than %d bytes", maxDERCertificate)
	}
	return parseCertificateDER(b)
}

// parseCertificateDER parses one DER certificate. It first checks the
// outer structure as nuget.org does (a SEQUENCE spanning the whole input
// whose first element is a SEQUENCE), which tells PFX and PKCS#7 files
// apart, then parses with crypto/x509.
func parseCertificateDER(der []byte) (*x509.Certificate, error) {
	if len(der) > maxDERCertificate {
		return nil, certificateFileError("the certificate is larger than %d bytes", maxDERCertificate)
	}
	in := cryptobyte.String(der)
	var outer cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, certificateFileError("the file is neither a DER nor a PEM certificate")
	}
	if !in.Empty() {
		return nil, certificateFileError("the file has data after the certificate (upload one certificate, not a chain)")
	}
	switch {
	case outer.PeekASN1Tag(cbasn1.INTEGER):
		return nil, certificateFileError("the file looks like a PFX (PKCS#12) file, which holds a private key: export the certificate alone (.cer)")
	case outer.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		return nil, certificateFileError("the file looks like a PKCS#7 (.p7b) bundle: export the signing certificate alone (.cer)")
	case !outer.PeekASN1Tag(cbasn1.SEQUENCE):
		return nil, certificateFileError("the file is not an X.509 certificate")
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		if _, rerr := x509.ParseCertificateRequest(der); rerr == nil {
			return nil, certificateFileError("the file is a certificate signing request, not a certificate")
		}
		return nil, certificateFileError("the certificate does not parse (%v)", strings.TrimPrefix(err.Error(), "x509: "))
	}
	return c, nil
}

// certificateJSON is what the feed tells about a registered certificate.
type certificateJSON struct {
	// SHA256 is the upper-case hex fingerprint of the DER, as NuGet prints
	// it and as the URL to unregister it takes.
	SHA256       string    `json:"sha256"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	EKUs         []string  `json:"ekus"`
	KeyAlgorithm string    `json:"keyAlgorithm"`
	KeySize      int       `json:"keySize,omitempty"`
	SelfIssued   bool      `json:"selfIssued"`
	// Revocation is the status of the last revocation check: unknown
	// (never checked), good or revoked.
	Revocation string    `json:"revocation"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	// Registered is when the certificate was first registered, by any
	// account.
	Registered time.Time `json:"registered"`
	// Warnings say why packages signed with it would fail the feed's
	// validation now; they do not stop the registration.
	Warnings []certificateWarning `json:"warnings"`
	// Identity is set in the answer to an upload that registered the
	// certificate's identity too.
	Identity *identityJSON `json:"identity,omitempty"`
}

// certificateWarning is one reason a certificate would fail validation: a
// rule of package pki (with its NuGet code) or one of the feed's.
type certificateWarning struct {
	Rule    string `json:"rule"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

type identityJSON struct {
	Subject string    `json:"subject"`
	Issuer  string    `json:"issuer"`
	Created time.Time `json:"created,omitzero"`
}

// Rules of the feed's own certificate warnings.
const (
	ruleSelfIssued = "self-issued"
	ruleRevoked    = "revoked"
	ruleUnreadable = "unreadable"
)

// certificateFacts describes a stored certificate, c parsed from its DER
// (nil if it does not parse), with the warnings that apply at now.
func certificateFacts(c *x509.Certificate, st store.Certificate, now time.Time) certificateJSON {
	out := certificateJSON{
		SHA256:     strings.ToUpper(hex.EncodeToString(st.SHA256)),
		Subject:    st.Subject,
		Issuer:     st.Issuer,
		NotBefore:  st.NotBefore,
		NotAfter:   st.NotAfter,
		EKUs:       []string{},
		Revocation: string(st.Revocation.Status),
		RevokedAt:  st.Revocation.RevokedAt,
		Registered: st.Created,
		Warnings:   []certificateWarning{},
	}
	if c == nil {
		out.Warnings = append(out.Warnings, certificateWarning{Rule: ruleUnreadable, Message: "the stored certificate does not parse"})
		return out
	}
	out.EKUs = ekuNames(c)
	out.KeyAlgorithm, out.KeySize = keyFacts(c)
	for _, is := range pki.CheckSigningCertificate(c, now) {
		out.Warnings = append(out.Warnings, certificateWarning{Rule: string(is.Rule), Code: is.Code, Message: is.Message})
	}
	if out.SelfIssued = pki.IsSelfIssued(c); out.SelfIssued {
		out.Warnings = append(out.Warnings, certificateWarning{Rule: ruleSelfIssued, Code: pki.NU3018,
			Message: "the certificate is self-issued: the feed accepts only certificates that chain to a trusted root"})
	}
	if st.Revocation.Status == store.RevocationRevoked {
		out.Warnings = append(out.Warnings, certificateWarning{Rule: ruleRevoked, Code: "NU3012",
			Message: "the certificate was revoked"})
	}
	return out
}

// keyFacts names the certificate's key algorithm and size in bits (0 if
// unknown).
func keyFacts(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// ekuNames lists the certificate's extended key usages by their RFC 5280
// names, unknown ones as OIDs; empty when it has no EKU extension (any
// purpose).
func ekuNames(c *x509.Certificate) []string {
	names := []string{}
	for _, u := range c.ExtKeyUsage {
		name, ok := ekuName[u]
		if !ok {
			name = fmt.Sprintf("ExtKeyUsage(%d)", int(u))
		}
		names = append(names, name)
	}
	for _, oid := range c.UnknownExtKeyUsage {
		if oid.Equal(pki.OIDLifetimeSigning) {
			names = append(names, "lifetimeSigning")
			continue
		}
		names = append(names, oid.String())
	}
	return names
}

var ekuName = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "anyExtendedKeyUsage",
	x509.ExtKeyUsageServerAuth:      "serverAuth",
	x509.ExtKeyUsageClientAuth:      "clientAuth",
	x509.ExtKeyUsageCodeSigning:     "codeSigning",
	x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping:    "timeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}

// certificateOwner is the account whose certificates the URL names: the
// session's user, or the organisation {name}, which the user must be an
// admin of (or a site administrator). It answers 404 or 403 itself.
func (s *Server) certificateOwner(w http.ResponseWriter, r *http.Request, a *sessionAuth) (store.Account, bool) {
	if r.PathValue("name") == "" {
		return a.user.Account, true
	}
	return s.organization(w, r, a, true)
}

// requireTwoFactorSession answers 403 unless the session logged in with a
// second factor.
func requireTwoFactorSession(w http.ResponseWriter, a *sessionAuth) bool {
	if !a.session.TwoFactor {
		writeError(w, http.StatusForbidden, msgNeedTwoFactorSession)
		return false
	}
	return true
}

// parseFlag reads a yes/no field: "true", "1" or "on" (an HTML checkbox)
// or "false", "0" or empty.
func parseFlag(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "on":
		return true, true
	case "false", "0", "":
		return false, true
	}
	return false, false
}

// readCertificateUpload reads the uploaded file, from the raw body or the
// "certificate" field of multipart/form-data, and whether the identity is
// asked for. It answers the client itself when it cannot (ok false).
func readCertificateUpload(w http.ResponseWriter, r *http.Request) (data []byte, identity, ok bool) {
	flag := r.URL.Query().Get(identityField)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		if err := r.ParseMultipartForm(maxCertificateRequest); err != nil {
			if tooLarge(err) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("the upload is larger than %d bytes", maxCertificateRequest))
				return nil, false, false
			}
			writeError(w, http.StatusBadRequest, "the body is not valid multipart/form-data")
			return nil, false, false
		}
		defer r.MultipartForm.RemoveAll()
		files := r.MultipartForm.File[certificateField]
		if len(files) != 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("send one file in the form field %q", certificateField))
			return nil, false, false
		}
		f, err := files[0].Open()
		if err != nil {
			writeError(w, http.StatusBadRequest, "the uploaded file cannot be read")
			return nil, false, false
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxPEMCertificate+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "the uploaded file cannot be read")
			return nil, false, false
		}
		if v := r.MultipartForm.Value[identityField]; len(v) > 0 && flag == "" {
			flag = v[0]
		}
	case certificateTypes[mt]:
		var err error
		data, err = io.ReadAll(io.LimitReader(r.Body, maxPEMCertificate+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "reading the body: the upload was cut off")
			return nil, false, false
		}
	default:
		writeError(w, http.StatusUnsupportedMediaType, "send the certificate file as the body (Content-Type application/pkix-cert, "+
			"application/x-x509-ca-cert, application/octet-stream or application/x-pem-file) or in the field \""+
			certificateField+"\" of multipart/form-data")
		return nil, false, false
	}
	if len(data) > maxPEMCertificate {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the certificate file is larger than %d bytes", maxPEMCertificate))
		return nil, false, false
	}
	identity, valid := parseFlag(flag)
	if !valid {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q must be true or false, not %q", identityField, flag))
		return nil, false, false
	}
	return data, identity, true
}

// handleAddCertificate is POST …/certificates: register the uploaded
// certificate (and with identity=true its subject and issuer) to the
// account. The answer is 201 with its facts; 409 if the account has it.
func (s *Server) handleAddCertificate(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	owner, ok := s.certificateOwner(w, r, a)
	if !ok || !requireTwoFactorSession(w, a) {
		return
	}
	data, identity, ok := readCertificateUpload(w, r)
	if !ok {
		return
	}
	c, err := parseCertificateFile(data)
	if err != nil {
		writeError(w, http.StatusBadRequest, certificateFileMessage(err))
		return
	}
	sum := sha256.Sum256(c.Raw)
	rec := store.Certificate{SHA256: sum[:], DER: c.Raw, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
	var stored store.Certificate
	if identity {
		stored, err = s.store.AddCertificateWithIdentity(r.Context(), owner.ID, rec)
	} else {
		stored, err = s.store.AddCertificate(r.Context(), owner.ID, rec)
	}
	fingerprint := strings.ToUpper(hex.EncodeToString(sum[:]))
	switch {
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, fmt.Sprintf("the certificate %s is registered to %q already", fingerprint, owner.Name))
		return
	case identity && errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "the certificate's subject or issuer is empty or too long to register as an identity")
		return
	case err != nil:
		s.storeError(w, r, err)
		return
	}
	out := certificateFacts(c, stored, s.now())
	if identity {
		out.Identity = &identityJSON{Subject: rec.Subject, Issuer: rec.Issuer}
	}
	s.log.Info("certificate registered", "account", owner.Name, "sha256", fingerprint, "identity", identity, "by", a.user.Name)
	writeJSON(w, r, http.StatusCreated, out)
}

// handleListCertificates is GET …/certificates: the account's
// certificates, with their facts and warnings as of now, and identities.
func (s *Server) handleListCertificates(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	owner, ok := s.certificateOwner(w, r, a)
	if !ok {
		return
	}
	certs, err := s.store.AccountCertificates(r.Context(), owner.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ids, err := s.store.AccountIdentities(r.Context(), owner.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := s.now()
	out := struct {
		Account      string            `json:"account"`
		Certificates []certificateJSON `json:"certificates"`
		Identities   []identityJSON    `json:"identities"`
	}{owner.Name, []certificateJSON{}, []identityJSON{}}
	for _, st := range certs {
		c, err := x509.ParseCertificate(st.DER)
		if err != nil {
			s.log.Warn("stored certificate does not parse", "sha256", hex.EncodeToString(st.SHA256), "err", err)
			c = nil
		}
		out.Certificates = append(out.Certificates, certificateFacts(c, st, now))
	}
	for _, id := range ids {
		out.Identities = append(out.Identities, identityJSON{Subject: id.Subject, Issuer: id.Issuer, Created: id.Created})
	}
	writeJSON(w, r, http.StatusOK, out)
}

// handleRemoveCertificate is DELETE …/certificates/{sha256}: unregister
// the certificate from the account. Packages signed with it stay; new
// pushes signed with it fail unless another registration covers them.
func (s *Server) handleRemoveCertificate(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	owner, ok := s.certificateOwner(w, r, a)
	if !ok || !requireTwoFactorSession(w, a) {
		return
	}
	fp := r.PathValue("sha256")
	sum, err := hex.DecodeString(fp)
	if err == nil && len(sum) == sha256.Size {
		err = s.store.RemoveCertificate(r.Context(), owner.ID, sum)
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no certificate %q is registered to %q", fp, owner.Name))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("certificate unregistered", "account", owner.Name, "sha256", strings.ToUpper(fp), "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}

// handleRemoveIdentity is DELETE …/certificate-identities
// {"subject","issuer"}: unregister a certificate identity.
func (s *Server) handleRemoveIdentity(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	var in struct {
		Subject string `json:"subject"`
		Issuer  string `json:"issuer"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	owner, ok := s.certificateOwner(w, r, a)
	if !ok || !requireTwoFactorSession(w, a) {
		return
	}
	err := s.store.RemoveIdentity(r.Context(), owner.ID, in.Subject, in.Issuer)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no identity %q issued by %q is registered to %q", in.Subject, in.Issuer, owner.Name))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("certificate identity unregistered", "account", owner.Name, "by", a.user.Name)
	w.WriteHeader(http.StatusNoContent)
}
