package feed

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/nusig"
)

// Revocation re-checks (nuget.org's revalidation jobs): every certificate
// that signed a stored package, and every registered one whose issuer the
// feed has learnt, is checked again by OCSP or CRL once per
// Config.RevalidatePeriod. When a certificate turns out revoked, nuget.org's
// decision table applies to each version it signed: a version whose
// timestamp is before the revocation time keeps its valid signature (shown
// as "grace"); one timestamped at or after it, or with no revocation time
// given, becomes "invalid". Nothing is deleted or unlisted automatically.
const (
	// DefaultRevalidatePeriod is how old a certificate's last check may be
	// before it is checked again.
	DefaultRevalidatePeriod = 24 * time.Hour
	// DefaultRevalidateInterval is how often Run looks for certificates due.
	DefaultRevalidateInterval = time.Hour
	// revalidateBatch is how many certificates one claim takes: small, so
	// that replicas share the work.
	revalidateBatch = 20
	// maxUnknownChecks is how many checks in a row may fail to tell before
	// the feed logs a certificate as unverifiable (nuget.org then marks it
	// invalid; Signet keeps the versions and says so in their facts).
	maxUnknownChecks = 10
)

// RevalidateReport says what a revalidation run did.
type RevalidateReport struct {
	Checked     int `json:"checked"`
	Good        int `json:"good"`
	Revoked     int `json:"revoked"`
	Unknown     int `json:"unknown"`
	NoIssuer    int `json:"noIssuer"`
	Invalidated int `json:"versionsInvalidated"`
	Grace       int `json:"versionsInGrace"`
}

// Revalidate checks every certificate due and marks the versions it signed.
// Replicas may run it at once: each claims different certificates.
func (s *Server) Revalidate(ctx context.Context) (RevalidateReport, error) {
	var rep RevalidateReport
	g := s.cfg.Signing
	if g == nil || g.Recheck == nil {
		return rep, nil
	}
	checker := g.Recheck()
	for {
		now := s.now()
		due, err := s.store.ClaimRevocationChecks(ctx, now.Add(-s.cfg.RevalidatePeriod), now, revalidateBatch)
		if err != nil {
			return rep, fmt.Errorf("feed: revalidation: %w", err)
		}
		if len(due) == 0 {
			return rep, nil
		}
		for _, d := range due {
			if err := s.revalidate(ctx, checker, d, &rep); err != nil {
				return rep, err
			}
		}
	}
}

func (s *Server) revalidate(ctx context.Context, checker nusig.RevocationChecker, d store.DueCertificate, rep *RevalidateReport) error {
	rep.Checked++
	cert, err := x509.ParseCertificate(d.DER)
	if err != nil {
		s.log.Warn("revalidation: stored certificate does not parse", "sha256", fmt.Sprintf("%X", d.SHA256), "err", err)
		return nil
	}
	if d.IssuerDER == nil {
		rep.NoIssuer++ // registered, never used: its chain is not known yet
		return nil
	}
	issuer, err := x509.ParseCertificate(d.IssuerDER)
	if err != nil {
		s.log.Warn("revalidation: stored issuer does not parse", "sha256", fmt.Sprintf("%X", d.SHA256), "err", err)
		return nil
	}
	now := s.now()
	status, revokedAt, cerr := checker.Check(ctx, cert, issuer)
	switch status {
	case nusig.RevocationGood:
		rep.Good++
		if err := s.store.SetRevocation(ctx, d.SHA256, store.Revocation{Status: store.RevocationGood, Checked: now}); err != nil {
			return fmt.Errorf("feed: revalidation: %w", err)
		}
		return s.markVersions(ctx, d.SHA256, func(f *signatureFacts) {
			if f.Revocation != "grace" && f.Validation != "invalid" {
				f.Revocation = "good"
			}
		})
	case nusig.RevocationRevoked:
		rep.Revoked++
		s.log.Warn("signing certificate revoked", "subject", cert.Subject.String(), "sha256", nusig.Fingerprint(cert), "revokedAt", revokedAt)
		if err := s.store.SetRevocation(ctx, d.SHA256, store.Revocation{Status: store.RevocationRevoked, Checked: now, RevokedAt: revokedAt}); err != nil {
			return fmt.Errorf("feed: revalidation: %w", err)
		}
		return s.markVersions(ctx, d.SHA256, func(f *signatureFacts) {
			t := revokedAt.UTC()
			if !revokedAt.IsZero() {
				f.RevokedAt = &t
			}
			if !revokedAt.IsZero() && f.Author != nil && f.Author.Timestamp != nil && f.Author.Timestamp.Time.Before(revokedAt) {
				f.Revocation = "grace"
				rep.Grace++
				return
			}
			f.Revocation = "revoked"
			f.Validation = "invalid"
			rep.Invalidated++
		})
	default:
		rep.Unknown++
		n, err := s.store.CountUnknownCheck(ctx, d.SHA256)
		if err != nil {
			return fmt.Errorf("feed: revalidation: %w", err)
		}
		level := s.log.Info
		if n >= maxUnknownChecks {
			level = s.log.Warn
		}
		level("revalidation: revocation status unknown", "subject", cert.Subject.String(), "checksInARow", n, "err", cerr)
		if n >= maxUnknownChecks {
			return s.markVersions(ctx, d.SHA256, func(f *signatureFacts) {
				if f.Validation != "invalid" && f.Revocation != "grace" {
					f.Revocation = "unknown"
				}
			})
		}
		return nil
	}
}

// markVersions applies change to the facts of every version whose author
// signature the certificate made, and stores them with their new status.
func (s *Server) markVersions(ctx context.Context, sha256 []byte, change func(*signatureFacts)) error {
	refs, err := s.store.VersionsSignedBy(ctx, sha256)
	if err != nil {
		return fmt.Errorf("feed: revalidation: %w", err)
	}
	now := s.now().UTC()
	for _, ref := range refs {
		v, err := s.store.Version(ctx, ref.PackageID, ref.Version)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("feed: revalidation: %w", err)
		}
		var f signatureFacts
		if v.Signature == nil || json.Unmarshal(v.Signature, &f) != nil {
			continue
		}
		change(&f)
		f.CheckedAt = now
		if err := s.store.SetSignatureStatus(ctx, ref.PackageID, ref.Version, signatureStatus(&f), f.json()); err != nil {
			return fmt.Errorf("feed: revalidation: %w", err)
		}
	}
	return nil
}

// handleRevalidate is POST /api/v1/admin/revalidate: run the revocation
// re-check now (administrators).
func (s *Server) handleRevalidate(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	if !a.user.Admin {
		writeError(w, http.StatusForbidden, "only an administrator can run the revocation re-check")
		return
	}
	rep, err := s.Revalidate(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, rep)
}
