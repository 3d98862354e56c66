package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/tsp"
	"github.com/signet-nuget/signet/internal/tsp/tsptest"
)

// newServer returns a TSA on a fresh test PKI, with a file-backed serial
// source and a log buffer.
func newServer(t *testing.T, o tsptest.Options) (*Server, *tsptest.PKI, *syncBuffer) {
	t.Helper()
	p := tsptest.New(t, o)
	serials, err := NewFileSerials(filepath.Join(t.TempDir(), "serials"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serials.Close() })
	logs := &syncBuffer{}
	s := &Server{Certificate: p.Cert, Signer: p.Signer, Serials: serials,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, p, logs
}

// syncBuffer is a log sink that tests may read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestClientAgainstServer(t *testing.T) {
	s, p, logs := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	data := []byte("primary signature value")
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		c := &tsp.Client{URLs: []string{srv.URL}}
		tok, der, err := c.Timestamp(context.Background(), data, h)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		// The token verifies on its own too, as a verifier reading it from a
		// package would see it.
		again, err := tsp.ParseToken(der)
		if err != nil {
			t.Fatal(err)
		}
		if errs := again.Verify(data, tsp.VerifyOptions{}); len(errs) != 0 {
			t.Fatalf("%v: %v", h, errs)
		}
		i := tok.Info
		if i.Hash != h || tok.DigestHash != h || !i.Policy.Equal(DefaultPolicy) || !i.HasAccuracy || i.Accuracy != time.Second ||
			i.GenTime.Nanosecond() != 0 || time.Since(i.GenTime) > time.Minute || !tok.Certificate.Equal(p.Cert) {
			t.Fatalf("%v: TSTInfo %+v", h, i)
		}
		// openssl reads only issuerAndSerialNumber sids (see the openssl test).
		if si := tok.SignerInfo; si.SID.SubjectKeyID != nil || si.Version != 1 || len(p.Cert.SubjectKeyId) == 0 {
			t.Fatalf("%v: sid %+v, version %d", h, si.SID, si.Version)
		}
		if i.UpperLimit().Before(time.Now().Add(-time.Minute)) {
			t.Fatalf("upper limit %v", i.UpperLimit())
		}
	}
	if n := strings.Count(logs.String(), "msg=\"tsa request\""); n != 3 {
		t.Fatalf("%d request log lines, want 3:\n%s", n, logs)
	}
}

func TestServerPrecisionAndAccuracy(t *testing.T) {
	s, _, _ := newServer(t, tsptest.Options{})
	now := time.Now().UTC().Truncate(time.Second).Add(678901234)
	s.Now = func() time.Time { return now }
	s.Precision, s.Accuracy = time.Millisecond, -1
	srv := httptest.NewServer(s)
	defer srv.Close()
	digest := sha256.Sum256([]byte("x"))
	req, _ := (&tsp.Request{Hash: crypto.SHA256, Digest: digest[:], CertReq: true}).Marshal()
	_, r := post(t, srv.URL, tsp.ContentTypeQuery, req)
	tok, err := tsp.ParseToken(r.Token)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Millisecond); !tok.Info.GenTime.Equal(want) || tok.Info.HasAccuracy {
		t.Fatalf("genTime %v (want %v), accuracy present %v", tok.Info.GenTime, want, tok.Info.HasAccuracy)
	}
}

// post sends body to the server and returns the HTTP response and the
// parsed TimeStampResp (nil if the body is not one).
func post(t *testing.T, url, ctype string, body []byte) (*http.Response, *tsp.Response) {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r, _ := tsp.ParseResponse(b)
	return resp, r
}

func TestServerRejections(t *testing.T) {
	s, _, logs := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	digest := sha256.Sum256([]byte("x"))
	marshal := func(r *tsp.Request) []byte {
		der, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	good := marshal(&tsp.Request{Hash: crypto.SHA256, Digest: digest[:], CertReq: true})
	v2 := bytes.Replace(good, []byte{0x02, 0x01, 0x01}, []byte{0x02, 0x01, 0x02}, 1)
	for _, tc := range []struct {
		name string
		body []byte
		fail tsp.FailInfo
	}{
		{"garbage", []byte("hello"), tsp.FailBadDataFormat},
		{"SHA-1", marshal(&tsp.Request{Hash: crypto.SHA1, Digest: make([]byte, 20)}), tsp.FailBadAlg},
		{"digest length", marshal(&tsp.Request{Hash: crypto.SHA512, Digest: digest[:]}), tsp.FailBadDataFormat},
		{"version 2", v2, tsp.FailBadRequest},
		{"policy", marshal(&tsp.Request{Hash: crypto.SHA256, Digest: digest[:], Policy: asn1.ObjectIdentifier{1, 2, 3}}), tsp.FailUnacceptedPolicy},
		{"extension", marshal(&tsp.Request{Hash: crypto.SHA256, Digest: digest[:],
			Extensions: []tsp.Extension{{ID: asn1.ObjectIdentifier{1, 2}, Value: []byte{5, 0}}}}), tsp.FailUnacceptedExtension},
	} {
		resp, r := post(t, srv.URL, tsp.ContentTypeQuery, tc.body)
		if resp.StatusCode != 200 || r == nil || r.Status != tsp.StatusRejection || r.FailInfo != tc.fail || r.Token != nil ||
			len(r.StatusStrings) != 1 || resp.Header.Get("Content-Type") != tsp.ContentTypeReply {
			t.Errorf("%s: HTTP %d, response %+v", tc.name, resp.StatusCode, r)
		}
	}
	// Requested policy equal to the server's is fine.
	_, r := post(t, srv.URL, tsp.ContentTypeQuery, marshal(&tsp.Request{Hash: crypto.SHA256, Digest: digest[:], Policy: DefaultPolicy}))
	if r == nil || !r.Granted() {
		t.Fatalf("own policy: %+v", r)
	}
	if !strings.Contains(logs.String(), "fail_info=badAlg") {
		t.Errorf("rejections not logged:\n%s", logs)
	}
}

func TestServerHTTPErrors(t *testing.T) {
	s, _, _ := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if resp, _ := post(t, srv.URL, "application/octet-stream", []byte{0x30, 0}); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("wrong content type: %d", resp.StatusCode)
	}
	if resp, _ := post(t, srv.URL, tsp.ContentTypeQuery, make([]byte, tsp.MaxRequestSize+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", resp.StatusCode)
	}
}

type failingSerials struct{}

func (failingSerials) Next() (*big.Int, error) { return nil, errors.New("disk full") }

func TestServerSystemFailure(t *testing.T) {
	digest := sha256.Sum256([]byte("x"))
	req, _ := (&tsp.Request{Hash: crypto.SHA256, Digest: digest[:]}).Marshal()
	for _, tc := range []struct {
		name string
		mod  func(*Server)
	}{
		{"serials", func(s *Server) { s.Serials = failingSerials{} }},
		{"certificate expired", func(s *Server) { s.Now = func() time.Time { return s.Certificate.NotAfter } }},
		{"not validated", func(s *Server) { s.Certificate = nil }},
		{"certificate not yet valid", func(s *Server) { s.Now = func() time.Time { return s.Certificate.NotBefore.Add(-time.Second) } }},
	} {
		s, _, logs := newServer(t, tsptest.Options{})
		tc.mod(s)
		srv := httptest.NewServer(s)
		resp, r := post(t, srv.URL, tsp.ContentTypeQuery, req)
		srv.Close()
		if resp.StatusCode != 500 || r == nil || r.FailInfo != tsp.FailSystemFailure {
			t.Errorf("%s: HTTP %d, %+v", tc.name, resp.StatusCode, r)
		}
		if !strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("%s: failure not logged as an error:\n%s", tc.name, logs)
		}
	}
}

func TestServerCertReqFalse(t *testing.T) {
	s, p, _ := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	digest := sha256.Sum256([]byte("x"))
	req, _ := (&tsp.Request{Hash: crypto.SHA256, Digest: digest[:]}).Marshal()
	_, r := post(t, srv.URL, tsp.ContentTypeQuery, req)
	tok, err := tsp.ParseToken(r.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.SignedData.RawCertificates) != 0 || tok.Info.Nonce != nil {
		t.Fatalf("certReq false: %d certificates, nonce %v", len(tok.SignedData.RawCertificates), tok.Info.Nonce)
	}
	// With certReq the certificate and the chain are included.
	s.Chain = []*x509.Certificate{p.Root}
	req, _ = (&tsp.Request{Hash: crypto.SHA256, Digest: digest[:], CertReq: true}).Marshal()
	_, r = post(t, srv.URL, tsp.ContentTypeQuery, req)
	if tok, err = tsp.ParseToken(r.Token); err != nil {
		t.Fatal(err)
	}
	if len(tok.Certificates) != 2 || !tok.Certificate.Equal(p.Cert) {
		t.Fatalf("certReq true: %d certificates", len(tok.Certificates))
	}
}

func TestServerConcurrentSerials(t *testing.T) {
	s, _, _ := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	const workers, each = 8, 25
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &tsp.Client{URLs: []string{srv.URL}, Retries: -1}
			for i := 0; i < each; i++ {
				tok, _, err := c.Timestamp(context.Background(), []byte{byte(w), byte(i)}, crypto.SHA256)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[tok.Info.SerialNumber.String()] {
					t.Errorf("serial %v repeated", tok.Info.SerialNumber)
				}
				seen[tok.Info.SerialNumber.String()] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct serials, want %d", len(seen), workers*each)
	}
}

func TestValidate(t *testing.T) {
	good := tsptest.New(t, tsptest.Options{})
	for _, tc := range []struct {
		name string
		s    *Server
	}{
		{"empty", &Server{}},
		{"small key", func() *Server {
			p := tsptest.New(t, tsptest.Options{SmallKey: true})
			return &Server{Certificate: p.Cert, Signer: p.Signer}
		}()},
		{"ECDSA", func() *Server {
			p := tsptest.New(t, tsptest.Options{ECDSAKey: true})
			return &Server{Certificate: p.Cert, Signer: p.Signer}
		}()},
		{"ECDSA issuer", func() *Server {
			p := tsptest.New(t, tsptest.Options{ECDSAIssuer: true})
			return &Server{Certificate: p.Cert, Signer: p.Signer}
		}()},
		{"no EKU", func() *Server {
			p := tsptest.New(t, tsptest.Options{NoEKU: true})
			return &Server{Certificate: p.Cert, Signer: p.Signer}
		}()},
		{"non-critical EKU", func() *Server {
			p := tsptest.New(t, tsptest.Options{NonCriticalEKU: true})
			return &Server{Certificate: p.Cert, Signer: p.Signer}
		}()},
	} {
		if err := tc.s.Validate(); err == nil || !strings.HasPrefix(err.Error(), "tsa: ") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := (&Server{Certificate: good.Cert, Signer: good.Signer}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestListenAndServe(t *testing.T) {
	s, _, logs := newServer(t, tsptest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ListenAndServe(ctx, "127.0.0.1:0", s) }()
	// Find the address in the log line.
	var addr string
	for i := 0; i < 100 && addr == ""; i++ {
		time.Sleep(10 * time.Millisecond)
		for _, f := range strings.Fields(logs.String()) {
			if a, ok := strings.CutPrefix(f, "addr="); ok {
				addr = a
			}
		}
	}
	if addr == "" {
		t.Fatalf("no listening line:\n%s", logs)
	}
	c := &tsp.Client{URLs: []string{"http://" + addr + "/"}}
	if _, _, err := c.Timestamp(context.Background(), []byte("x"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := ListenAndServe(context.Background(), "127.0.0.1:0", &Server{}); err == nil {
		t.Fatal("invalid server served")
	}
}
