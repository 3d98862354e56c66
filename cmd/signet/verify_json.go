package main

import (
	"crypto/x509"
	"time"

	"github.com/signet-nuget/signet/nusig"
)

// The --json output of verify: one object per package.
type jsonPackage struct {
	Path        string          `json:"path"`
	Valid       bool            `json:"valid"`
	Signed      bool            `json:"signed"`
	Status      string          `json:"status,omitempty"`
	ContentHash string          `json:"contentHashAlgorithm,omitempty"`
	Signatures  []jsonSignature `json:"signatures,omitempty"`
	Issues      []jsonIssue     `json:"issues,omitempty"`
	Error       string          `json:"error,omitempty"`
}

type jsonSignature struct {
	Type            string           `json:"type"`
	Placement       string           `json:"placement"`
	Status          string           `json:"status"`
	Certificate     *jsonCertificate `json:"certificate,omitempty"`
	Root            *jsonCertificate `json:"root,omitempty"`
	RootTrusted     bool             `json:"rootTrusted"`
	SigningTime     *time.Time       `json:"signingTime,omitempty"`
	Timestamp       *jsonTimestamp   `json:"timestamp,omitempty"`
	ServiceIndexURL string           `json:"serviceIndexUrl,omitempty"`
	Owners          []string         `json:"owners,omitempty"`
	Issues          []jsonIssue      `json:"issues,omitempty"`
}

type jsonCertificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SHA256    string    `json:"sha256"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

type jsonTimestamp struct {
	Time        time.Time        `json:"time"`
	Valid       bool             `json:"valid"`
	Authority   *jsonCertificate `json:"authority,omitempty"`
	Root        *jsonCertificate `json:"root,omitempty"`
	RootTrusted bool             `json:"rootTrusted"`
}

type jsonIssue struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message"`
	Detail   string `json:"detail,omitempty"`
}

func certJSON(c *x509.Certificate) *jsonCertificate {
	if c == nil {
		return nil
	}
	return &jsonCertificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(), SHA256: nusig.Fingerprint(c), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
}

func issuesJSON(is []nusig.Issue) []jsonIssue {
	var out []jsonIssue
	for _, i := range is {
		out = append(out, jsonIssue{Code: string(i.Code), Severity: i.Severity.String(), Reason: string(i.Reason), Message: i.Message, Detail: i.Detail})
	}
	return out
}

func last(c []*x509.Certificate) *x509.Certificate {
	if len(c) == 0 {
		return nil
	}
	return c[len(c)-1]
}

func toJSON(path string, r *nusig.Result) jsonPackage {
	j := jsonPackage{Path: path, Valid: r.Valid(), Signed: r.Signed, Status: r.Status.String(), Issues: issuesJSON(r.Issues)}
	if r.ContentHash != 0 {
		j.ContentHash = hashName(r.ContentHash)
	}
	for _, s := range []*nusig.SignatureResult{r.Primary, r.Countersignature} {
		if s == nil {
			continue
		}
		placement := "primary"
		if s.Placement == nusig.PlacementCountersignature {
			placement = "countersignature"
		}
		js := jsonSignature{Type: s.Type.String(), Placement: placement, Status: s.Status.String(),
			Certificate: certJSON(s.Certificate), Root: certJSON(last(s.Chain)), RootTrusted: s.ChainTrusted, Issues: issuesJSON(s.Issues)}
		if !s.SigningTime.IsZero() {
			t := s.SigningTime.UTC()
			js.SigningTime = &t
		}
		if ts := s.Timestamp(); ts != nil {
			js.Timestamp = &jsonTimestamp{Time: ts.GenTime.UTC(), Valid: ts.Valid, Authority: certJSON(ts.Certificate), Root: certJSON(last(ts.Chain)), RootTrusted: ts.ChainTrusted}
		}
		if s.Repository != nil {
			js.ServiceIndexURL = s.Repository.ServiceIndexURL
			js.Owners = s.Repository.Owners
		}
		j.Signatures = append(j.Signatures, js)
	}
	return j
}
