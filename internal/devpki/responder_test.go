package devpki_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/signet-nuget/signet/internal/devpki"
)

func TestCRL(t *testing.T) {
	root, inter := newCAs(t)
	id, err := inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := time.Now().Truncate(time.Second)
	var numbers []int64
	for range 2 {
		der, err := inter.CRL([]x509.RevocationListEntry{devpki.Revoked(id.Certificate, at, devpki.ReasonKeyCompromise)}, now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(inter.Cert); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		if crl.CheckSignatureFrom(root.Cert) == nil {
			t.Fatal("CRL verifies with the wrong CA")
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(id.Certificate.SerialNumber) != 0 ||
			!crl.RevokedCertificateEntries[0].RevocationTime.Equal(at) || crl.RevokedCertificateEntries[0].ReasonCode != devpki.ReasonKeyCompromise {
			t.Errorf("entries %+v", crl.RevokedCertificateEntries)
		}
		if !crl.ThisUpdate.Equal(now) || !crl.NextUpdate.Equal(now.Add(time.Hour)) {
			t.Errorf("validity %v–%v", crl.ThisUpdate, crl.NextUpdate)
		}
		numbers = append(numbers, crl.Number.Int64())
	}
	if numbers[1] != numbers[0]+1 {
		t.Errorf("CRL numbers %v: want increasing", numbers)
	}
}

// responderPKI registers an intermediate with a new responder and issues a
// leaf under it, so that the leaf carries the responder's URLs.
func responderPKI(t *testing.T, delegated bool) (*devpki.Responder, *devpki.CA, *x509.Certificate) {
	t.Helper()
	_, inter := newCAs(t)
	r := devpki.NewResponder()
	t.Cleanup(r.Close)
	if delegated {
		if _, err := r.RegisterDelegated(inter, devpki.TestKey(t, 2048, 5)); err != nil {
			t.Fatal(err)
		}
	} else {
		r.Register(inter)
	}
	id, err := inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Certificate.OCSPServer) != 1 || !strings.HasPrefix(id.Certificate.OCSPServer[0], "http://127.0.0.1:") ||
		len(id.Certificate.CRLDistributionPoints) != 1 || !strings.HasSuffix(id.Certificate.CRLDistributionPoints[0], ".crl") {
		t.Fatalf("leaf URLs %v %v", id.Certificate.OCSPServer, id.Certificate.CRLDistributionPoints)
	}
	return r, inter, id.Certificate
}

func queryOCSP(t *testing.T, cert, issuer *x509.Certificate, get bool) []byte {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: 0})
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	if get {
		resp, err = http.Get(cert.OCSPServer[0] + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
	} else {
		resp, err = http.Post(cert.OCSPServer[0], "application/ocsp-request", bytes.NewReader(req))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestResponderOCSP(t *testing.T) {
	for _, delegated := range []bool{false, true} {
		name := map[bool]string{false: "ca-signed", true: "delegated"}[delegated]
		t.Run(name, func(t *testing.T) {
			r, inter, leaf := responderPKI(t, delegated)
			for _, get := range []bool{false, true} {
				resp, err := ocsp.ParseResponseForCert(queryOCSP(t, leaf, inter.Cert, get), leaf, inter.Cert)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != ocsp.Good {
					t.Errorf("status %v, want good", resp.Status)
				}
				if delegated != (resp.Certificate != nil) {
					t.Errorf("delegated %v, embedded certificate %v", delegated, resp.Certificate != nil)
				}
				if !resp.NextUpdate.After(time.Now()) {
					t.Errorf("nextUpdate %v is not in the future", resp.NextUpdate)
				}
			}
			at := time.Now().Add(-time.Hour).Truncate(time.Second)
			if err := r.Revoke(leaf, at, devpki.ReasonKeyCompromise); err != nil {
				t.Fatal(err)
			}
			resp, err := ocsp.ParseResponseForCert(queryOCSP(t, leaf, inter.Cert, false), leaf, inter.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != ocsp.Revoked || !resp.RevokedAt.Equal(at) || resp.RevocationReason != ocsp.KeyCompromise {
				t.Errorf("after Revoke: status %v at %v reason %v", resp.Status, resp.RevokedAt, resp.RevocationReason)
			}
		})
	}
}

func TestResponderUnknownSerial(t *testing.T) {
	_, inter, leaf := responderPKI(t, false)
	never := *leaf
	never.SerialNumber = big.NewInt(12345)
	resp, err := ocsp.ParseResponseForCert(queryOCSP(t, &never, inter.Cert, false), &never, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != ocsp.Unknown {
		t.Errorf("status %v, want unknown", resp.Status)
	}
}

func TestResponderCRL(t *testing.T) {
	r, inter, leaf := responderPKI(t, false)
	if err := r.Revoke(leaf, time.Now().Add(-time.Minute), devpki.ReasonSuperseded); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(leaf.CRLDistributionPoints[0])
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(inter.Cert); err != nil {
		t.Fatal(err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Errorf("entries %+v", crl.RevokedCertificateEntries)
	}
	if o, c := r.Requests(); o != 0 || c != 1 {
		t.Errorf("requests ocsp=%d crl=%d, want 0 and 1", o, c)
	}
	if err := r.Revoke(inter.Cert, time.Now(), 0); err == nil {
		t.Error("Revoke of a certificate no registered CA issued succeeded")
	}
}

func TestResponderModes(t *testing.T) {
	r, inter, leaf := responderPKI(t, false)

	r.SetMode(devpki.ModeDown)
	resp, err := http.Get(leaf.CRLDistributionPoints[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("down: HTTP %d", resp.StatusCode)
	}

	r.SetMode(devpki.ModeGarbage)
	if _, err := ocsp.ParseResponse(queryOCSP(t, leaf, inter.Cert, false), inter.Cert); err == nil {
		t.Error("garbage: parsed")
	}

	r.SetMode(devpki.ModeTryLater)
	_, err = ocsp.ParseResponse(queryOCSP(t, leaf, inter.Cert, false), inter.Cert)
	if re, ok := err.(ocsp.ResponseError); !ok || re.Status != ocsp.TryLater {
		t.Errorf("try later: err = %v", err)
	}

	r.SetMode(devpki.ModeNormal)
	r.SetDelay(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, leaf.CRLDistributionPoints[0], nil)
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("delay: request did not time out")
	}
	if time.Since(start) > 2*time.Second {
		t.Error("delay: the client waited for the full delay")
	}
	r.SetDelay(0)

	if o, c := r.Requests(); o != 2 || c != 2 {
		t.Errorf("requests ocsp=%d crl=%d, want 2 and 2", o, c)
	}
}

func TestResponderClock(t *testing.T) {
	r, inter, leaf := responderPKI(t, false)
	fixed := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	r.SetNow(func() time.Time { return fixed })
	resp, err := ocsp.ParseResponseForCert(queryOCSP(t, leaf, inter.Cert, false), leaf, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.ThisUpdate.Equal(fixed.Add(-time.Minute)) || !resp.NextUpdate.Equal(fixed.Add(devpki.OCSPValidity)) {
		t.Errorf("thisUpdate %v nextUpdate %v", resp.ThisUpdate, resp.NextUpdate)
	}
}
