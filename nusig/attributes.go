package nusig

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
)

// Type is the kind of a signature, from its commitment-type-indication
// attribute (spec 3.4).
type Type int

const (
	// TypeUnknown is a signature without a known commitment type.
	TypeUnknown Type = iota
	// TypeAuthor is a signature with proof-of-origin, made by the publisher.
	TypeAuthor
	// TypeRepository is a signature with proof-of-receipt, made by a feed.
	TypeRepository
)

func (t Type) String() string {
	switch t {
	case TypeAuthor:
		return "Author"
	case TypeRepository:
		return "Repository"
	}
	return "Unknown"
}

// Bounds on repository attributes. nuget.org's owner lists are a handful of
// names; a service index URL is a URL.
const (
	maxOwners         = 256
	maxOwnerLength    = 256
	maxServiceURLSize = 2048
)

// RepositoryInfo holds the two NuGet repository attributes (spec 3.3, items 6
// and 7).
type RepositoryInfo struct {
	ServiceIndexURL string   // nuget-v3-service-index-url, an absolute https URL
	Owners          []string // nuget-package-owners, optional
}

func (r RepositoryInfo) validate() error {
	if len(r.ServiceIndexURL) > maxServiceURLSize {
		return fmt.Errorf("nusig: service index URL is longer than %d bytes", maxServiceURLSize)
	}
	u, err := url.Parse(r.ServiceIndexURL)
	if err != nil || !u.IsAbs() || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("nusig: service index URL %q is not an absolute https URL", r.ServiceIndexURL)
	}
	for _, c := range r.ServiceIndexURL {
		if c >= utf8.RuneSelf {
			return fmt.Errorf("nusig: service index URL %q is not ASCII (it is written as an IA5String)", r.ServiceIndexURL)
		}
	}
	if len(r.Owners) > maxOwners {
		return fmt.Errorf("nusig: %d package owners, at most %d", len(r.Owners), maxOwners)
	}
	for _, o := range r.Owners {
		if strings.TrimSpace(o) == "" || len(o) > maxOwnerLength || !utf8.ValidString(o) {
			return fmt.Errorf("nusig: package owner %q is blank, too long or not UTF-8", o)
		}
	}
	return nil
}

// commitmentTypeValue is the DER of CommitmentTypeIndication with no
// qualifiers: SEQUENCE { OID }.
func commitmentTypeValue(t Type) []byte {
	oid := cms.OIDProofOfOrigin
	if t == TypeRepository {
		oid = cms.OIDProofOfReceipt
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	return b.BytesOrPanic()
}

// signedAttributes returns the attributes a NuGet author or repository
// signature carries besides content-type and message-digest, which cms adds
// (spec 3.3): signing-time, commitment-type-indication, signing-certificate-v2
// and, for repository signatures, the two NuGet repository attributes.
func signedAttributes(t Type, cert *x509.Certificate, h crypto.Hash, now time.Time, repo *RepositoryInfo) ([]cms.Attribute, error) {
	st, err := cms.MarshalSigningTime(now)
	if err != nil {
		return nil, err
	}
	ess, err := cms.MarshalSigningCertificateV2(cert, h)
	if err != nil {
		return nil, err
	}
	attrs := []cms.Attribute{
		{Type: cms.OIDSigningTime, Values: [][]byte{st}},
		{Type: cms.OIDCommitmentTypeIndication, Values: [][]byte{commitmentTypeValue(t)}},
		{Type: cms.OIDSigningCertificateV2, Values: [][]byte{ess}},
	}
	if t != TypeRepository {
		return attrs, nil
	}
	if repo == nil {
		return nil, fmt.Errorf("nusig: a repository signature needs a service index URL")
	}
	if err := repo.validate(); err != nil {
		return nil, err
	}
	var u cryptobyte.Builder
	u.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(repo.ServiceIndexURL)) })
	attrs = append(attrs, cms.Attribute{Type: cms.OIDNuGetV3ServiceIndexURL, Values: [][]byte{u.BytesOrPanic()}})
	if len(repo.Owners) > 0 {
		var o cryptobyte.Builder
		o.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, name := range repo.Owners {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
			}
		})
		attrs = append(attrs, cms.Attribute{Type: cms.OIDNuGetPackageOwners, Values: [][]byte{o.BytesOrPanic()}})
	}
	return attrs, nil
}

// signatureType reads the commitment-type-indication values of a SignerInfo
// (spec 3.4): values of every instance are pooled; unknown values are
// ignored; author and repository together are an error (NU3000).
func signatureType(si *cms.SignerInfo) (Type, error) {
	seen := map[Type]bool{}
	for _, a := range si.SignedAttr(cms.OIDCommitmentTypeIndication) {
		for _, v := range a.Values {
			s := cryptobyte.String(v)
			var seq cryptobyte.String
			var oid asn1.ObjectIdentifier
			if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
				return TypeUnknown, newIssueError(NU3000, "the commitment-type-indication attribute is malformed")
			}
			switch {
			case oid.Equal(cms.OIDProofOfOrigin):
				seen[TypeAuthor] = true
			case oid.Equal(cms.OIDProofOfReceipt):
				seen[TypeRepository] = true
			}
		}
	}
	switch {
	case seen[TypeAuthor] && seen[TypeRepository]:
		return TypeUnknown, newIssueError(NU3000, "the commitment-type-indication attribute holds an invalid combination of author and repository")
	case seen[TypeAuthor]:
		return TypeAuthor, nil
	case seen[TypeRepository]:
		return TypeRepository, nil
	}
	return TypeUnknown, nil
}

// repositoryInfo reads the NuGet repository attributes of a SignerInfo. The
// service index URL must appear exactly once with one value, an absolute
// https URL; owners are optional but, when present, one value holding at
// least one non-blank name (spec 3.3).
func repositoryInfo(si *cms.SignerInfo) (RepositoryInfo, error) {
	var r RepositoryInfo
	u := si.SignedAttr(cms.OIDNuGetV3ServiceIndexURL)
	if len(u) != 1 || len(u[0].Values) != 1 {
		return r, fmt.Errorf("nusig: want exactly one nuget-v3-service-index-url attribute with one value, have %d", len(u))
	}
	s := cryptobyte.String(u[0].Values[0])
	var str cryptobyte.String
	if !s.ReadASN1(&str, cbasn1.IA5String) || !s.Empty() {
		return r, fmt.Errorf("nusig: nuget-v3-service-index-url is not an IA5String")
	}
	r.ServiceIndexURL = string(str)
	o := si.SignedAttr(cms.OIDNuGetPackageOwners)
	if len(o) > 1 || (len(o) == 1 && len(o[0].Values) != 1) {
		return r, fmt.Errorf("nusig: want at most one nuget-package-owners attribute with one value")
	}
	if len(o) == 1 {
		s := cryptobyte.String(o[0].Values[0])
		var seq cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
			return r, fmt.Errorf("nusig: nuget-package-owners is not a SEQUENCE")
		}
		for !seq.Empty() {
			var name cryptobyte.String
			if !seq.ReadASN1(&name, cbasn1.UTF8String) {
				return r, fmt.Errorf("nusig: nuget-package-owners holds something other than UTF8String")
			}
			r.Owners = append(r.Owners, string(name))
		}
		if len(r.Owners) == 0 {
			return r, fmt.Errorf("nusig: nuget-package-owners is empty")
		}
	}
	if err := r.validate(); err != nil {
		return r, err
	}
	return r, nil
}
