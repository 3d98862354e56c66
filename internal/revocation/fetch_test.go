package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signet-nuget/signet/internal/devpki"
)

func TestOCSPGetFallback(t *testing.T) {
	e := newEnv(t)
	var gets atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			http.Error(w, "POST not supported", http.StatusMethodNotAllowed)
			return
		}
		gets.Add(1)
		proxy(e.responder.URL)(w, r)
	})
	leaf := e.issue(t, devpki.LeafOptions{OCSPServer: []string{srv.URL + "/ocsp/0"}, CRLDistributionPoints: []string{}})
	r, err := checker().Lookup(context.Background(), leaf, e.inter.Cert)
	if err != nil || r.Status != Good || r.Source != SourceOCSP {
		t.Fatalf("%v via %v, %v", r.Status, r.Source, err)
	}
	if srv.n.Load() != 2 || gets.Load() != 1 {
		t.Errorf("%d requests, %d GET; want a POST then a GET", srv.n.Load(), gets.Load())
	}
}

func TestOCSPNonce(t *testing.T) {
	e := newEnv(t)
	// echo answers with a response that carries the request's nonce, which
	// is the last nonceSize bytes of our request.
	var leaf *x509.Certificate
	echo := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		nonce := req[max(0, len(req)-nonceSize):]
		w.Write(buildResponse(t, leaf, e.inter.Cert, e.inter.Key, respSpec{responseExts: []extension{nonceExtension(t, nonce)}}))
	})
	leaf = e.issue(t, devpki.LeafOptions{OCSPServer: []string{echo.URL}})
	nonced := checker(func(c *Checker) { c.OCSPNonce = true })
	if r, err := nonced.Lookup(context.Background(), leaf, e.inter.Cert); err != nil || r.Source != SourceOCSP {
		t.Fatalf("echoing responder: %v via %v, %v", r.Status, r.Source, err)
	}
	// devpki's responder ignores nonces: OCSP fails, the CRL answers.
	r, err := checker(func(c *Checker) { c.OCSPNonce = true }).Lookup(context.Background(), e.leaf, e.inter.Cert)
	if err != nil || r.Status != Good || r.Source != SourceCRL {
		t.Fatalf("responder without nonces: %v via %v, %v", r.Status, r.Source, err)
	}
	noCRL := e.issue(t, devpki.LeafOptions{CRLDistributionPoints: []string{}})
	if _, err := nonced.Lookup(context.Background(), noCRL, e.inter.Cert); !errors.Is(err, ErrNonce) {
		t.Fatalf("err = %v, want %v", err, ErrNonce)
	}
}

func TestFetchLimits(t *testing.T) {
	e := newEnv(t)
	huge := newServer(t, serveBytes(make([]byte, maxOCSPResponseSize+1)))
	// claims is a CRL server announcing more than maxCRLSize bytes.
	claims := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(maxCRLSize+1))
		w.WriteHeader(http.StatusOK)
	})
	leaf := e.issue(t, devpki.LeafOptions{OCSPServer: []string{huge.URL}, CRLDistributionPoints: []string{claims.URL + "/a.crl"}})
	r, err := checker().Lookup(context.Background(), leaf, e.inter.Cert)
	var ue *UnknownError
	if r.Status != Unknown || !errors.As(err, &ue) || len(ue.Errs) != 2 || !errors.Is(ue.Errs[0], ErrTooLarge) || !errors.Is(ue.Errs[1], ErrTooLarge) {
		t.Fatalf("%v, %v; want the OCSP response and the CRL refused as too large", r.Status, err)
	}
	t.Log(err)
}

func TestRedirects(t *testing.T) {
	e := newEnv(t)
	redirect := func(to string) string {
		return newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }).URL
	}
	crl := e.responder.CRLURL(0)
	tests := []struct {
		name string
		to   string
		ok   bool
	}{
		{"to http", redirect(crl), true},
		{"twice", redirect(redirect(crl)), true},
		{"to https", redirect("https://127.0.0.1:1/a.crl"), false},
		{"loop", newServer(t, http.RedirectHandler("/again", http.StatusFound).ServeHTTP).URL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := e.issue(t, devpki.LeafOptions{OCSPServer: []string{}, CRLDistributionPoints: []string{tt.to}})
			r, err := checker().Lookup(context.Background(), leaf, e.inter.Cert)
			if tt.ok != (err == nil) || tt.ok && r.Status != Good {
				t.Fatalf("%v, %v", r.Status, err)
			}
		})
	}
}

func TestUsableURLs(t *testing.T) {
	in := []string{"ldap://x/cn=a", "https://a.test/x", "http://a.test/1", "file:///etc/passwd", "http:///nohost",
		"http://a.test/2", "http://a.test/3", "http://a.test/4", "http://a.test/5"}
	want := []string{"http://a.test/1", "http://a.test/2", "http://a.test/3", "http://a.test/4"}
	if got := usableURLs(in); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOCSPGetURL(t *testing.T) {
	req := bytes.Repeat([]byte{0xfb, 0xff}, 20) // base64 with '+' and '/'
	u := ocspGetURL("http://a.test/ocsp/", req)
	if !strings.HasPrefix(u, "http://a.test/ocsp/") || strings.Count(u, "/") != 4 || strings.Contains(u[len("http://a.test/ocsp/"):], "/") {
		t.Errorf("GET URL %q", u)
	}
}
