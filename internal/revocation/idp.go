package revocation

import (
	"crypto/x509"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxIDPNames bounds the general names of an issuing distribution point:
// real CRLs name one or two URLs.
const maxIDPNames = 16

// issuingDistributionPoint is the CRL extension of RFC 5280 5.2.5, which
// limits what a CRL covers.
type issuingDistributionPoint struct {
	// named is set when distributionPoint is present; uris are the
	// uniformResourceIdentifiers of its fullName, relative is set when it is
	// a nameRelativeToCRLIssuer instead.
	named    bool
	uris     []string
	relative bool

	onlyUserCerts, onlyCACerts, onlySomeReasons, indirectCRL, onlyAttributeCerts bool
}

// Context-specific tags of IssuingDistributionPoint and its parts (RFC 5280
// is an IMPLICIT TAGS module; a tagged CHOICE is explicit).
var (
	tagIDPDistributionPoint = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagIDPFullName          = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagIDPRelativeName      = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagGeneralNameURI       = cbasn1.Tag(6).ContextSpecific()
)

// parseIssuingDistributionPoint parses the extension's value:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	     distributionPoint          [0] DistributionPointName OPTIONAL,
//	     onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
//	     onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
//	     onlySomeReasons            [3] ReasonFlags OPTIONAL,
//	     indirectCRL                [4] BOOLEAN DEFAULT FALSE,
//	     onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
func parseIssuingDistributionPoint(b []byte) (*issuingDistributionPoint, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w CRL issuing distribution point: %s", ErrMalformed, what)
	}
	s := cryptobyte.String(b)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("not a SEQUENCE")
	}
	idp := &issuingDistributionPoint{}
	var dp cryptobyte.String
	if !seq.ReadOptionalASN1(&dp, &idp.named, tagIDPDistributionPoint) {
		return nil, bad("distributionPoint")
	}
	if idp.named {
		var names cryptobyte.String
		var tag cbasn1.Tag
		if !dp.ReadAnyASN1(&names, &tag) || !dp.Empty() {
			return nil, bad("distributionPoint")
		}
		switch tag {
		case tagIDPFullName:
			for n := 0; !names.Empty(); n++ {
				var name cryptobyte.String
				var t cbasn1.Tag
				if n == maxIDPNames || !names.ReadAnyASN1(&name, &t) {
					return nil, bad("fullName")
				}
				if t == tagGeneralNameURI {
					idp.uris = append(idp.uris, string(name))
				}
			}
		case tagIDPRelativeName:
			idp.relative = true
		default:
			return nil, bad("distributionPoint name")
		}
	}
	for i, f := range []*bool{&idp.onlyUserCerts, &idp.onlyCACerts, nil, &idp.indirectCRL, &idp.onlyAttributeCerts} {
		tag := cbasn1.Tag(i + 1).ContextSpecific()
		var v cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&v, &present, tag) {
			return nil, bad(fmt.Sprintf("field [%d]", i+1))
		}
		if !present {
			continue
		}
		if f == nil { // [3] onlySomeReasons, a BIT STRING
			idp.onlySomeReasons = true
			continue
		}
		if len(v) != 1 || v[0] != 0xff { // DER TRUE; FALSE is the default, never encoded
			return nil, bad(fmt.Sprintf("BOOLEAN [%d]", i+1))
		}
		*f = true
	}
	if !seq.Empty() {
		return nil, bad("trailing data")
	}
	return idp, nil
}

// checkCRLScope checks that a CRL limited by an issuing distribution point
// covers cert (RFC 5280 6.3.3 (b)(2)): its distribution point name must be
// one the certificate names, it must not be limited to the other kind of
// certificate (CA or end entity) or to attribute certificates, and, because
// we use one CRL per certificate, it must cover every reason and not be
// indirect.
func checkCRLScope(p *parsedCRL, cert *x509.Certificate) error {
	idp := p.idp
	if idp == nil {
		return nil
	}
	switch {
	case idp.relative:
		return fmt.Errorf("%w: CRL distribution point named relative to its issuer", ErrUnsupported)
	case idp.onlySomeReasons:
		return fmt.Errorf("%w: CRL limited to some revocation reasons", ErrUnsupported)
	case idp.indirectCRL:
		return fmt.Errorf("%w: indirect CRL", ErrUnsupported)
	case idp.onlyAttributeCerts:
		return fmt.Errorf("%w: CRL of attribute certificates does not cover %q", ErrNotCovered, cert.Subject.String())
	case idp.onlyUserCerts && cert.IsCA:
		return fmt.Errorf("%w: CRL of end-entity certificates does not cover CA %q", ErrNotCovered, cert.Subject.String())
	case idp.onlyCACerts && !cert.IsCA:
		return fmt.Errorf("%w: CRL of CA certificates does not cover %q", ErrNotCovered, cert.Subject.String())
	case idp.named && !slices.ContainsFunc(idp.uris, func(u string) bool { return slices.Contains(cert.CRLDistributionPoints, u) }):
		return fmt.Errorf("%w: CRL distribution point %q is not one of %q's", ErrNotCovered, idp.uris, cert.Subject.String())
	}
	return nil
}
