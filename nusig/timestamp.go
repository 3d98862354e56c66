package nusig

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/internal/tsp"
)

// verifyTimestamps evaluates the timestamps of si (spec 4.3) and returns the
// one that counts when it is valid, else nil. Its issues go to s, after the
// signature's own; when a timestamp is not valid and the options do not
// allow ignoring it, the signature is disallowed.
func (v *verifier) verifyTimestamps(ctx context.Context, s *SignatureResult, si *cms.SignerInfo, cert *x509.Certificate, name string) *TimestampResult {
	o := v.o
	// As the client does, each signature-time-stamp attribute counts once,
	// by its first value.
	var tokens [][]byte
	for _, a := range si.UnsignedAttr(cms.OIDTimeStampToken) {
		if len(a.Values) > 0 {
			tokens = append(tokens, a.Values[0])
		}
	}
	if len(tokens) == 0 {
		sev := SeverityWarning
		if !o.AllowNoTimestamp {
			sev = SeverityError
			s.Status = minStatus(s.Status, StatusDisallowed)
		}
		s.add(NU3027, sev, "The %s is not timestamped: it stops being valid when its certificate expires", name)
		return nil
	}
	if len(tokens) > 1 && !o.AllowMultipleTimestamps {
		s.add(NU3000, SeverityError, "The %s has %d timestamps; multiple timestamps are not accepted", name, len(tokens))
		s.Status = minStatus(s.Status, StatusDisallowed)
		return nil
	}
	ts := v.verifyToken(ctx, tokens[0], si.Signature, name)
	s.Timestamps = append(s.Timestamps, ts)
	s.Issues = append(s.Issues, ts.Issues...)
	if !ts.Valid {
		if !o.AllowIgnoreTimestamp {
			s.Status = minStatus(s.Status, StatusDisallowed)
		}
		return nil
	}
	return ts
}

// verifyToken checks one timestamp token over the signature value it
// timestamps, then builds the TSA certificate's chain to a trusted
// timestamping root, ignoring expiry (spec 4.3).
func (v *verifier) verifyToken(ctx context.Context, der, signature []byte, name string) *TimestampResult {
	ts := &TimestampResult{}
	sev := v.timestampSeverity()
	tname := name + "'s timestamp"
	tok, err := tsp.ParseToken(der)
	if err != nil {
		ts.Issues = append(ts.Issues, Issue{Code: NU3021, Severity: sev, Message: "The " + tname + " is invalid: " + err.Error()})
		return ts
	}
	info := tok.Info
	if info == nil {
		ts.Issues = append(ts.Issues, Issue{Code: NU3021, Severity: sev, Message: "The " + tname + " does not hold a TSTInfo"})
		return ts
	}
	ts.GenTime = info.GenTime
	ts.Accuracy = info.EffectiveAccuracy()
	ts.LowerLimit, ts.UpperLimit = info.LowerLimit(), info.UpperLimit()
	ts.Policy = info.Policy.String()
	ts.Hash = info.Hash
	ts.Certificate = tok.Certificate
	checksPassed := true
	for _, err := range tok.Verify(signature, tsp.VerifyOptions{Now: v.now, AllowNonCriticalEKU: true}) {
		checksPassed = false
		code := NU3021
		var ce *tsp.CheckError
		if errors.As(err, &ce) && ce.Code != "" {
			code = Code(ce.Code)
		}
		is := Issue{Code: code, Severity: sev, Message: "The " + tname + ": " + err.Error()}
		if tsp.IsCheck(err, tsp.CheckEKU) {
			is.Reason = ReasonNotValidForUsage
		}
		ts.Issues = append(ts.Issues, is)
	}
	// The client builds the TSA's chain only for a token that passed its
	// own checks; a broken token is reported once, by what broke.
	if tok.Certificate == nil || !checksPassed {
		return ts
	}
	chain := pki.BuildChain(tok.Certificate, pki.ChainOptions{Roots: v.o.TimestampRoots, Pool: tok.Certificates, Usage: x509.ExtKeyUsageTimeStamping})
	ts.Chain = chain.Certificates
	ts.ChainTrusted = chain.Status == pki.ChainTrusted
	switch chain.Status {
	case pki.ChainUntrustedRoot:
		// An untrusted timestamping root is an error in every mode.
		ts.Issues = append(ts.Issues,
			Issue{Code: NU3028, Severity: SeverityError, Reason: ReasonUntrustedRoot, Message: "The " + tname + " found a chain building issue: the certificate chain ends at root " + quote(chain.Root().Subject.String()) + ", which is not trusted"},
			Issue{Code: NU3042, Severity: SeverityWarning, Reason: ReasonRootNotInBundle, Message: "The root " + quote(chain.Root().Subject.String()) + " (SHA-256 " + Fingerprint(chain.Root()) + ") is not in the timestamping trust bundle"})
	case pki.ChainPartial:
		ts.Issues = append(ts.Issues, Issue{Code: NU3028, Severity: sev, Reason: ReasonPartialChain, Message: "The " + tname + " found a chain building issue: no issuer of " + quote(chain.Root().Subject.String()) + " was found (partial chain)"})
	case pki.ChainNotValidForUsage:
		ts.Issues = append(ts.Issues, Issue{Code: NU3028, Severity: sev, Reason: ReasonNotValidForUsage, Message: "The " + tname + " found a chain building issue: the certificate is not valid for timestamping"})
	}
	rs := &SignatureResult{Status: StatusValid}
	if chain.Status == pki.ChainTrusted {
		v.checkRevocation(ctx, rs, chain.Certificates, tname, NU3028, NU3028)
		ts.Issues = append(ts.Issues, rs.Issues...)
	}
	ts.Valid = chain.Status == pki.ChainTrusted && rs.Status == StatusValid
	return ts
}

func quote(s string) string { return "'" + s + "'" }

// rfc3161 adapts the RFC 3161 client to the Timestamper interface.
type rfc3161 struct{ c *tsp.Client }

// NewRFC3161Timestamper returns a Timestamper that asks the timestamp
// authorities at urls, in order, falling back to the next on failure; each
// attempt is limited to timeout.
func NewRFC3161Timestamper(urls []string, timeout time.Duration) Timestamper {
	return rfc3161{c: &tsp.Client{URLs: urls, HTTPClient: http.DefaultClient, Timeout: timeout}}
}

func (r rfc3161) Timestamp(ctx context.Context, data []byte, h crypto.Hash) ([]byte, error) {
	_, der, err := r.c.Timestamp(ctx, data, h)
	if err != nil {
		var ce *tsp.CheckError
		if errors.As(err, &ce) && ce.Code != "" {
			return nil, &Error{Code: Code(ce.Code), Msg: "timestamping failed", Err: err}
		}
		return nil, wrapIssueError(NU3000, err, "timestamping failed")
	}
	return der, nil
}
