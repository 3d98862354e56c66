package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
)

// hang is a handler that answers nothing until the client gives up. It
// reads the request body first: net/http notices that the client went away
// only once the body has been read.
func hang(_ http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func TestCheckerOnline(t *testing.T) {
	e := newEnv(t)
	revoked := e.issue(t, devpki.LeafOptions{})
	at := e.revoke(t, revoked, devpki.ReasonKeyCompromise)
	// Leaves whose OCSP responder fails in various ways; their CRL works.
	ocspAt := func(u string) *x509.Certificate {
		c := e.issue(t, devpki.LeafOptions{OCSPServer: []string{u}})
		e.revoke(t, c, devpki.ReasonSuperseded)
		return c
	}
	hangs := ocspAt(newServer(t, hang).URL)
	tests := []struct {
		name   string
		cert   *x509.Certificate
		want   Status
		source Source
		reason Reason
	}{
		{"good via OCSP", e.leaf, Good, SourceOCSP, 0},
		{"revoked via OCSP", revoked, Revoked, SourceOCSP, ReasonKeyCompromise},
		{"revoked via CRL, OCSP refuses connections", ocspAt(deadURL(t)), Revoked, SourceCRL, ReasonSuperseded},
		{"revoked via CRL, OCSP says tryLater", ocspAt(newServer(t, serveBytes([]byte{0x30, 0x03, 0x0a, 0x01, 0x03})).URL), Revoked, SourceCRL, ReasonSuperseded},
		{"revoked via CRL, OCSP answers garbage", ocspAt(newServer(t, serveBytes([]byte("<html>"))).URL), Revoked, SourceCRL, ReasonSuperseded},
		{"revoked via CRL, OCSP hangs", hangs, Revoked, SourceCRL, ReasonSuperseded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checker()
			if tt.cert == hangs {
				c.ResponderTimeout = 500 * time.Millisecond
			}
			start := time.Now()
			r, err := c.Lookup(context.Background(), tt.cert, e.inter.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want || r.Source != tt.source || r.Origin != OriginNetwork || r.URL == "" || len(r.Raw) == 0 {
				t.Fatalf("%v via %v from %v %q; want %v via %v", r.Status, r.Source, r.Origin, r.URL, tt.want, tt.source)
			}
			if tt.want == Revoked && (!r.RevokedAt.Equal(at) || r.Reason != tt.reason) {
				t.Errorf("revoked at %v for %v; want %v for %v", r.RevokedAt, r.Reason, at, tt.reason)
			}
			if d := time.Since(start); d > 2*c.ResponderTimeout {
				t.Errorf("took %v; a failing responder may cost one ResponderTimeout (%v)", d, c.ResponderTimeout)
			}
		})
	}
}

func TestCheckerRefusesBadEvidence(t *testing.T) {
	e := newEnv(t)
	p := newOCSPPKI(t)
	// unauthorized's OCSP responder signs with a self-issued certificate.
	serial := big.NewInt(time.Now().UnixNano())
	rogue := buildResponse(t, e.leaf, e.inter.Cert, e.inter.Key,
		respSpec{serial: serial, responder: p.selfSigned, certs: []*x509.Certificate{p.selfSigned}, key: p.rogueKey})
	unauthorized := e.issue(t, devpki.LeafOptions{SerialNumber: serial, OCSPServer: []string{newServer(t, serveBytes(rogue)).URL}, CRLDistributionPoints: []string{}})
	wrongKeyCRL := makeCRL(t, e.inter, crlSpec{issuer: e.inter.Cert, key: ecKey(t, keyImpostorCA)})
	tests := []struct {
		name  string
		cert  *x509.Certificate
		setup func()
		err   error
	}{
		{"unauthorized OCSP signer", unauthorized, nil, ErrUnauthorizedSigner},
		{"expired OCSP response", e.issue(t, devpki.LeafOptions{CRLDistributionPoints: []string{}}),
			func() { e.responder.SetNow(func() time.Time { return time.Now().Add(-3 * time.Hour) }) }, ErrStale},
		{"CRL signed by the wrong key", e.issue(t, devpki.LeafOptions{OCSPServer: []string{}, CRLDistributionPoints: []string{newServer(t, serveBytes(wrongKeyCRL)).URL}}),
			nil, ErrBadSignature},
		{"responder answers garbage", e.leaf, func() { e.responder.SetMode(devpki.ModeGarbage) }, ErrMalformed},
		{"no OCSP or http CRL URL", e.issue(t, devpki.LeafOptions{OCSPServer: []string{}, CRLDistributionPoints: []string{"ldap://x.test/cn=crl"}}),
			nil, ErrNoLocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.responder.SetMode(devpki.ModeNormal)
			e.responder.SetNow(time.Now)
			if tt.setup != nil {
				tt.setup()
			}
			r, err := checker().Lookup(context.Background(), tt.cert, e.inter.Cert)
			var ue *UnknownError
			if r.Status != Unknown || !errors.As(err, &ue) || !errors.Is(err, tt.err) {
				t.Fatalf("got %v, %v; want Unknown with %v", r.Status, err, tt.err)
			}
		})
	}
}

func TestCheckerNothingAnswers(t *testing.T) {
	e := newEnv(t)
	t.Run("responder down", func(t *testing.T) {
		e.responder.SetMode(devpki.ModeDown)
		defer e.responder.SetMode(devpki.ModeNormal)
		c := checker()
		r, err := c.Lookup(context.Background(), e.leaf, e.inter.Cert)
		var se *httpStatusError
		if r.Status != Unknown || !errors.As(err, &se) || se.code != http.StatusServiceUnavailable {
			t.Fatalf("got %v, %v", r.Status, err)
		}
		// The failure is remembered: another certificate's lookup skips the
		// server.
		o1, c1 := e.requests()
		_, err = c.Lookup(context.Background(), e.issue(t, devpki.LeafOptions{}), e.inter.Cert)
		if o2, c2 := e.requests(); !errors.Is(err, ErrResponderDown) || o2 != o1 || c2 != c1 {
			t.Fatalf("second lookup: %v, %d→%d OCSP and %d→%d CRL requests", err, o1, o2, c1, c2)
		}
	})
	// devpki's SetDelay is not used: its responder waits before reading a
	// POST body, so it does not notice that the client gave up, and its
	// Close waits for the whole delay.
	hung := newServer(t, hang).URL
	hangingLeaf := func() *x509.Certificate {
		return e.issue(t, devpki.LeafOptions{OCSPServer: []string{hung + "/ocsp"}, CRLDistributionPoints: []string{hung + "/a.crl"}})
	}
	t.Run("responder hangs", func(t *testing.T) {
		c := checker(func(c *Checker) { c.ResponderTimeout = 200 * time.Millisecond })
		start := time.Now()
		r, err := c.Lookup(context.Background(), hangingLeaf(), e.inter.Cert)
		d := time.Since(start)
		if r.Status != Unknown || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, %v", r.Status, err)
		}
		// OCSP and CRL each cost one ResponderTimeout. The upper bound is
		// loose so that a loaded CI machine does not fail it; it still
		// catches a lookup that waits for the hanging server.
		if d < 2*c.ResponderTimeout || d > 10*c.ResponderTimeout {
			t.Errorf("took %v; want 2–10 × %v", d, c.ResponderTimeout)
		}
		t.Logf("both sources hanging: Unknown after %v (ResponderTimeout %v)", d, c.ResponderTimeout)
		// Both are now skipped for a while.
		start = time.Now()
		_, err = c.Lookup(context.Background(), hangingLeaf(), e.inter.Cert)
		if d := time.Since(start); !errors.Is(err, ErrResponderDown) || d > 5*c.ResponderTimeout {
			t.Fatalf("second lookup after %v: %v", d, err)
		}
	})
	t.Run("overall deadline", func(t *testing.T) {
		c := checker(func(c *Checker) { c.ResponderTimeout, c.Timeout = time.Second, 300*time.Millisecond })
		start := time.Now()
		r, err := c.Lookup(context.Background(), hangingLeaf(), e.inter.Cert)
		if d := time.Since(start); r.Status != Unknown || !errors.Is(err, context.DeadlineExceeded) || d > 10*c.Timeout {
			t.Fatalf("got %v, %v after %v; want Unknown within 10 × %v", r.Status, err, d, c.Timeout)
		}
	})
	t.Run("caller's context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		// The shared lookup goes on after the caller gives up; a short
		// ResponderTimeout ends it before the server closes.
		c := checker(func(c *Checker) { c.ResponderTimeout = 200 * time.Millisecond })
		r, err := c.Lookup(ctx, hangingLeaf(), e.inter.Cert)
		if d := time.Since(start); r.Status != Unknown || !errors.Is(err, context.DeadlineExceeded) || d > 2*time.Second {
			t.Fatalf("got %v, %v after %v", r.Status, err, d)
		}
	})
}
