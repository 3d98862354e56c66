package cms

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
)

// SignerCertificate finds si's certificate in the bag by its signer
// identifier only (subjectKeyIdentifier, or issuer and serial), never by
// position (fixtures README item 1). Byte-identical duplicates are one
// certificate. When distinct certificates match (a reissued certificate with
// the same key shares its subjectKeyIdentifier), the signed ESS
// signing-certificate-v2, else signing-certificate, attribute decides: its
// first entry must match exactly one of them. Errors wrap ErrSignerNotFound.
func (sd *SignedData) SignerCertificate(si *SignerInfo) (*x509.Certificate, error) {
	var found []*x509.Certificate
	for _, c := range sd.Certificates {
		if si.SID.Matches(c) && !slices.ContainsFunc(found, func(f *x509.Certificate) bool { return bytes.Equal(f.Raw, c.Raw) }) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("cms: no certificate in the bag matches the signer identifier: %w", ErrSignerNotFound)
	case 1:
		return found[0], nil
	}
	if c := essChoice(si, found); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("cms: %d distinct certificates match the signer identifier: %w", len(found), ErrSignerNotFound)
}

// essChoice returns the one candidate that the first entry of si's
// signing-certificate-v2 (else signing-certificate) attribute identifies, or
// nil.
func essChoice(si *SignerInfo, candidates []*x509.Certificate) *x509.Certificate {
	attrs, err := si.signedAttrsFromRaw()
	if err != nil {
		return nil
	}
	var match func(*x509.Certificate) bool
	if v, ok := singleValue(attrs, OIDSigningCertificateV2); ok {
		if ids, err := ParseSigningCertificateV2(v); err == nil {
			match = func(c *x509.Certificate) bool { return ids[0].Matches(c) == nil }
		}
	} else if v, ok := singleValue(attrs, OIDSigningCertificate); ok {
		if ids, err := ParseSigningCertificate(v); err == nil {
			match = func(c *x509.Certificate) bool { return ids[0].Matches(c) == nil }
		}
	}
	if match == nil {
		return nil
	}
	var chosen *x509.Certificate
	for _, c := range candidates {
		if match(c) {
			if chosen != nil {
				return nil
			}
			chosen = c
		}
	}
	return chosen
}

// CheckSignerInfo checks one signer of sd over its encapsulated content:
// the content-type attribute against EContentType (RFC 5652 5.3), then the
// signature (CheckSignature). A detached SignedData gives ErrNoContent.
func (sd *SignedData) CheckSignerInfo(si *SignerInfo, cert *x509.Certificate) error {
	if sd.EContent == nil {
		return fmt.Errorf("cms: detached content: %w", ErrNoContent)
	}
	if err := si.CheckContentType(sd.EContentType); err != nil {
		return err
	}
	return si.CheckSignature(cert, sd.EContent)
}
