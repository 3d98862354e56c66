package nusig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/nupkg"
)

// Verify checks a package's signatures as the NuGet client does (spec 5),
// in the spec's order: the package is signed (NU3004); the primary signature
// loads (NU3005, NU3003, NU3009, NU3010, NU3011, NU3000, NU3007); integrity
// (NU3008); the primary signature's validity and trust with its timestamp;
// the repository countersignature as o.Countersignatures says; the allow
// list. It collects every issue rather than stopping at the first, and
// returns data: the caller prints it, maps it to HTTP or asserts on it.
func Verify(ctx context.Context, p *nupkg.Package, o VerifyOptions) *Result {
	r := &Result{Status: StatusValid}
	if !p.IsSigned() {
		if !o.AllowUnsigned {
			r.Issues = append(r.Issues, Issue{Code: NU3004, Severity: SeverityError, Message: "The package is not signed."})
			r.Status = StatusDisallowed
		}
		return r
	}
	r.Signed = true
	ps, err := loadPrimary(p)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = wrapIssueError(NU3000, err, "the package signature is invalid")
		}
		sev := SeverityError
		if o.AllowIllegal {
			sev = SeverityWarning
		} else {
			r.Status = StatusDisallowed
		}
		r.Issues = append(r.Issues, Issue{Code: e.Code, Severity: sev, Message: e.Msg + detail(e.Err)})
		return r
	}
	r.ContentHash = ps.content.Hash
	if err := ps.checkIntegrity(p); err != nil {
		r.Issues = append(r.Issues, Issue{Code: NU3008, Severity: SeverityError, Message: err.Error()})
		r.Status = StatusSuspect
	}

	v := &verifier{o: o, now: o.now(), sd: ps.sd}
	r.Primary = v.verifySignature(ctx, ps.si, ps.cert, ps.sd.EContent, ps.typ, PlacementPrimary)
	r.Primary.SigningTime = ps.signingTime
	if ps.typ == TypeRepository {
		if ri, err := repositoryInfo(ps.si); err == nil {
			r.Primary.Repository = &ri
		} else {
			r.Primary.add(NU3000, v.illegalSeverity(), "%v", err)
			r.Primary.disallow(!o.AllowIllegal)
		}
	}
	v.countersignature(ctx, r, ps)
	status := r.Primary.Status
	if r.Countersignature != nil && r.Countersignature.Verified {
		status = minStatus(status, r.Countersignature.Status)
	}
	r.Status = minStatus(r.Status, status)
	return r
}

func detail(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// primary is a loaded primary signature (spec 5.1 step 2).
type primary struct {
	sd          *cms.SignedData
	si          *cms.SignerInfo
	cert        *x509.Certificate
	typ         Type
	content     Content
	signingTime time.Time
}

// loadPrimary runs the load steps of spec 5.1 step 2 in order.
func loadPrimary(p *nupkg.Package) (*primary, error) {
	raw, err := p.Signature()
	if err != nil {
		var ne *nupkg.Error
		if errors.As(err, &ne) {
			return nil, &Error{Code: Code(ne.Code), Msg: ne.Msg, Err: ne.Err}
		}
		return nil, wrapIssueError(NU3005, err, "the package signature file entry is invalid")
	}
	sd, err := cms.Parse(raw)
	if err != nil {
		return nil, wrapIssueError(NU3003, err, "the package signature is invalid or cannot be verified")
	}
	if len(sd.SignerInfos) != 1 {
		return nil, newIssueError(NU3009, "the package signature does not contain exactly one primary signature (it has %d)", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	typ, err := signatureType(si)
	if err != nil {
		return nil, err
	}
	cert, err := sd.SignerCertificate(si)
	if err != nil || cert == nil {
		return nil, wrapIssueError(NU3010, err, "the primary signature does not have a signing certificate")
	}
	if err := checkESSAttributes(si, cert, typ, NU3011); err != nil {
		return nil, err
	}
	c, err := ParseContent(sd.EContent)
	if err != nil {
		return nil, err
	}
	ps := &primary{sd: sd, si: si, cert: cert, typ: typ, content: c}
	if typ != TypeUnknown {
		t, err := signingTime(si)
		if err != nil {
			return nil, wrapIssueError(NU3011, err, "the primary signature is invalid")
		}
		ps.signingTime = t
	}
	return ps, nil
}

func (ps *primary) checkIntegrity(p *nupkg.Package) error {
	sum, err := p.HashUnsigned(ps.content.Hash)
	if err != nil {
		return fmt.Errorf("The package integrity check failed: %v", err)
	}
	if !bytes.Equal(sum, ps.content.HashValue) {
		return errors.New("The package integrity check failed: its content no longer matches the hash its signature was made over, so it was changed after signing")
	}
	return nil
}

// signingTime reads the one signing-time attribute that author and
// repository signatures must carry (spec 3.3 item 3).
func signingTime(si *cms.SignerInfo) (time.Time, error) {
	a := si.SignedAttr(cms.OIDSigningTime)
	if len(a) != 1 || len(a[0].Values) != 1 {
		return time.Time{}, errors.New("the signing-time attribute must be present once with one value")
	}
	return cms.ParseSigningTime(a[0].Values[0])
}

// checkESSAttributes applies spec 3.3's attribute rules: an author or
// repository signature carries no ESS signing-certificate (v1) and exactly
// one signing-certificate-v2 with one value, every ESSCertIDv2 using an
// allowed hash, the first naming the signing certificate. A signature of
// unknown type is checked only for what it carries.
func checkESSAttributes(si *cms.SignerInfo, cert *x509.Certificate, typ Type, code Code) error {
	if typ != TypeUnknown && len(si.SignedAttr(cms.OIDSigningCertificate)) > 0 {
		return newIssueError(code, "the signature carries the ESS signing-certificate (v1) attribute, which NuGet signatures must not")
	}
	v2 := si.SignedAttr(cms.OIDSigningCertificateV2)
	if len(v2) == 0 {
		if typ == TypeUnknown {
			return nil
		}
		return newIssueError(code, "the signature has no signing-certificate-v2 attribute")
	}
	if len(v2) != 1 || len(v2[0].Values) != 1 {
		return newIssueError(code, "the signing-certificate-v2 attribute must appear once with one value")
	}
	ids, err := cms.ParseSigningCertificateV2(v2[0].Values[0])
	if err != nil {
		return wrapIssueError(code, err, "the signing-certificate-v2 attribute is invalid")
	}
	if len(ids) == 0 {
		return newIssueError(code, "the signing-certificate-v2 attribute names no certificate")
	}
	for _, id := range ids {
		if _, ok := hashOIDString(id.Hash); !ok {
			return newIssueError(code, "the signing-certificate-v2 attribute uses an unsupported hash algorithm")
		}
	}
	if ids[0].IssuerSerial == nil {
		return newIssueError(code, "the signing-certificate-v2 attribute has no issuerSerial")
	}
	if err := ids[0].Matches(cert); err != nil {
		return wrapIssueError(code, err, "a certificate referenced by the signing-certificate-v2 attribute could not be found")
	}
	return nil
}

// Fingerprint returns the upper-case hex SHA-256 fingerprint of a
// certificate, as NuGet prints and stores it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
