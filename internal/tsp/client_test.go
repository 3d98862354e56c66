package tsp

import (
	"context"
	"crypto"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/tsp/tsptest"
)

// fakeTSA is a minimal TSA for client tests, with ways to misbehave.
type fakeTSA struct {
	pki     *tsptest.PKI
	reply   func(req *Request) *Response // nil: grant
	mod     func(*TokenSigner, *TSTInfo) // alters the token
	status  int                          // HTTP status; 0 means 200
	ctype   string                       // Content-Type; "" means application/timestamp-reply
	body    []byte                       // sent instead of a response
	delay   time.Duration
	calls   atomic.Int32
	lastReq *Request
}

func (f *fakeTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	der, _ := io.ReadAll(r.Body) // read first: net/http notices a gone client only after the body
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	req, err := ParseRequest(der)
	if err != nil || r.Header.Get("Content-Type") != ContentTypeQuery {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	f.lastReq = req
	ct := f.ctype
	if ct == "" {
		ct = ContentTypeReply
	}
	w.Header().Set("Content-Type", ct)
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	if f.body != nil {
		w.Write(f.body)
		return
	}
	var resp *Response
	if f.reply != nil {
		resp = f.reply(req)
	} else {
		info := &TSTInfo{Policy: []int{1, 2, 3, 4, 1}, Hash: req.Hash, HashedMessage: req.Digest,
			SerialNumber: big.NewInt(1), GenTime: time.Now().UTC().Truncate(time.Second), Nonce: req.Nonce}
		s := &TokenSigner{Signer: f.pki.Signer, Certificate: f.pki.Cert, IncludeCertificates: req.CertReq, Hash: req.Hash}
		if f.mod != nil {
			f.mod(s, info)
		}
		tok, err := s.Sign(info, info.GenTime)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		resp = &Response{Status: StatusGranted, Token: tok}
	}
	out, _ := resp.Marshal()
	w.Write(out)
}

func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

func TestClientGood(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{})
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		f := &fakeTSA{pki: p}
		srv := httptest.NewServer(f)
		c := &Client{URLs: []string{srv.URL}}
		tok, der, err := c.Timestamp(context.Background(), []byte("sig"), h)
		srv.Close()
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		if tok.Info.Hash != h || tok.Info.Nonce.Cmp(f.lastReq.Nonce) != 0 || !f.lastReq.CertReq || len(der) == 0 {
			t.Fatalf("%v: token %v", h, tok)
		}
	}
	if _, _, err := (&Client{URLs: []string{"http://x"}}).Timestamp(context.Background(), nil, crypto.SHA1); err == nil ||
		!errors.Is(err, ErrUnsupportedHash) {
		t.Fatalf("SHA-1 timestamp: %v", err)
	}
}

// TestClientFailures runs each way a TSA can fail and checks the one-line
// error names the URL and the cause.
func TestClientFailures(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{})
	for _, tc := range []struct {
		name string
		tsa  *fakeTSA
		url  string // used instead of a fake when set
		want string
		is   Check
	}{
		{name: "down", url: closedURL(t), want: "connection refused"},
		{name: "slow", tsa: &fakeTSA{delay: 2 * time.Second}, want: "no answer within 200ms"},
		{name: "garbage body", tsa: &fakeTSA{body: []byte("<html>hello</html>")}, want: "unreadable response"},
		{name: "HTTP 500", tsa: &fakeTSA{status: 500, body: []byte("oops")}, want: `HTTP status "500 Internal Server Error" (after 3 attempts)`},
		{name: "HTTP 404", tsa: &fakeTSA{status: 404, body: []byte("no")}, want: `HTTP status "404 Not Found"`},
		{name: "content type", tsa: &fakeTSA{ctype: "text/html"}, want: `content type "text/html"`},
		{name: "rejection", tsa: &fakeTSA{reply: func(*Request) *Response {
			return &Response{Status: StatusRejection, FailInfo: FailBadAlg, StatusStrings: []string{"no\nway"}}
		}}, want: `answered rejection (failInfo badAlg): "no\nway"`},
		{name: "granted without token", tsa: &fakeTSA{reply: func(*Request) *Response { return &Response{Status: StatusGranted} }},
			want: "carries no token"},
		{name: "wrong nonce", tsa: &fakeTSA{mod: func(_ *TokenSigner, i *TSTInfo) { i.Nonce = big.NewInt(1) }},
			want: "NU3026: nonce: token nonce differs from the request's", is: CheckNonce},
		{name: "wrong imprint", tsa: &fakeTSA{mod: func(_ *TokenSigner, i *TSTInfo) { i.HashedMessage = make([]byte, len(i.HashedMessage)) }},
			want: "NU3019: imprint: message imprint does not match", is: CheckImprint},
		{name: "missing cert", tsa: &fakeTSA{mod: func(s *TokenSigner, _ *TSTInfo) { s.IncludeCertificates = false }},
			want: "NU3020: signer-certificate: the TSA certificate is not in the token", is: CheckSignerCertificate},
		{name: "bad signature", tsa: &fakeTSA{mod: func(s *TokenSigner, _ *TSTInfo) { s.badSig = true }},
			want: "NU3021: token-signature", is: CheckSignature},
		{name: "bad URL", url: "ftp://example.com/tsa", want: "URL must be absolute http or https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url
			if tc.tsa != nil {
				tc.tsa.pki = p
				srv := httptest.NewServer(tc.tsa)
				defer srv.Close()
				u = srv.URL
			}
			c := &Client{URLs: []string{u}, Timeout: 200 * time.Millisecond, Backoff: time.Millisecond}
			tok, der, err := c.Timestamp(context.Background(), []byte("sig"), crypto.SHA256)
			if err == nil || tok != nil || der != nil {
				t.Fatalf("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			prefix := "tsp: all timestamp authorities failed: " + u + ": "
			if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q, want %q containing %q", msg, prefix, tc.want)
			}
			if tc.is != "" && !IsCheck(err, tc.is) {
				t.Fatalf("error %v does not wrap check %s", err, tc.is)
			}
			t.Log(msg)
		})
	}
}

func TestClientRetriesAndFailover(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{})
	bad := &fakeTSA{pki: p, status: 503, body: []byte("busy")}
	good := &fakeTSA{pki: p}
	bs, gs := httptest.NewServer(bad), httptest.NewServer(good)
	defer bs.Close()
	defer gs.Close()
	down := closedURL(t)
	c := &Client{URLs: []string{down, bs.URL, gs.URL}, Retries: 1, Backoff: time.Millisecond}
	if _, _, err := c.Timestamp(context.Background(), []byte("sig"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if bad.calls.Load() != 2 || good.calls.Load() != 1 {
		t.Fatalf("calls: bad %d (want 2), good %d (want 1)", bad.calls.Load(), good.calls.Load())
	}
	// A rejection is not retried: the next URL is asked at once.
	rej := &fakeTSA{pki: p, reply: func(*Request) *Response { return &Response{Status: StatusRejection} }}
	rs := httptest.NewServer(rej)
	defer rs.Close()
	c = &Client{URLs: []string{rs.URL, bs.URL}, Retries: -1}
	_, _, err := c.Timestamp(context.Background(), []byte("sig"), crypto.SHA256)
	if err == nil || rej.calls.Load() != 1 {
		t.Fatalf("rejection: %v, %d calls", err, rej.calls.Load())
	}
	var all *AllFailedError
	if !errors.As(err, &all) || len(all.Failures) != 2 || all.Failures[0].URL != rs.URL || all.Failures[1].URL != bs.URL {
		t.Fatalf("failures: %+v", all)
	}
	want := "tsp: all timestamp authorities failed: " + rs.URL + ": timestamp authority answered rejection; " +
		bs.URL + `: HTTP status "503 Service Unavailable"`
	if err.Error() != want {
		t.Fatalf("error\n %q\nwant\n %q", err, want)
	}
}

func TestClientRedactsPassword(t *testing.T) {
	u := strings.Replace(closedURL(t), "http://", "http://user:s3cret@", 1)
	_, _, err := (&Client{URLs: []string{u}, Retries: -1}).Timestamp(context.Background(), nil, crypto.SHA256)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "user:xxxxx@") {
		t.Fatalf("error %v", err)
	}
}

func TestClientCancel(t *testing.T) {
	slow := &fakeTSA{delay: 10 * time.Second}
	srv := httptest.NewServer(slow)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	c := &Client{URLs: []string{srv.URL, srv.URL}}
	_, _, err := c.Timestamp(ctx, []byte("sig"), crypto.SHA256)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Fatalf("after cancel: %v in %v", err, time.Since(start))
	}
	if slow.calls.Load() != 1 {
		t.Fatalf("%d calls after cancel, want 1", slow.calls.Load())
	}
}

func TestClientOversizedResponse(t *testing.T) {
	f := &fakeTSA{body: make([]byte, MaxResponseSize+10)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	_, _, err := (&Client{URLs: []string{srv.URL}}).Timestamp(context.Background(), []byte("x"), crypto.SHA256)
	if err == nil || !strings.Contains(err.Error(), "response larger than") {
		t.Fatalf("got %v", err)
	}
}
