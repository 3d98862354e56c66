package feed

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/account"
)

// wrongCode returns six digits that are no valid code of a at now (nor a
// step either side).
func wrongCode(a *authenticator, now time.Time) string {
	valid := map[string]bool{}
	for _, d := range []time.Duration{-account.TOTPPeriod, 0, account.TOTPPeriod} {
		valid[a.code(now.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !valid[c] {
			return c
		}
	}
	panic("four candidate codes all valid")
}

// sessionCookie returns the client's session cookie value.
func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.h.base + "/")
	for _, k := range c.http.Jar.Cookies(u) {
		if k.Name == sessionCookie {
			return k.Value
		}
	}
	return ""
}

type accountJSON struct {
	TwoFactor         bool
	TwoFactorEnabled  bool
	RecoveryCodesLeft *int
}

// TestTwoFactorEnrolment: enrolment gives a secret, a URI and a QR code,
// a first code enables it, rotates the session into a two-factor one and
// ends the others.
func TestTwoFactorEnrolment(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann := h.signup("ann")
			var me accountJSON
			ann.mustJSON("GET", "/api/v1/account", nil, 200, &me)
			if me.TwoFactor || me.TwoFactorEnabled || me.RecoveryCodesLeft != nil {
				t.Fatalf("account before enrolment = %+v", me)
			}
			ann.mustJSON("GET", "/api/v1/account/2fa/qr.png", nil, 404, nil)
			ann.mustJSON("POST", "/api/v1/account/2fa/confirm", map[string]string{"code": "123456"}, 404, nil)
			h.anon().mustJSON("POST", "/api/v1/account/2fa", nil, 401, nil)

			var begin struct{ Secret, URI string }
			ann.mustJSON("POST", "/api/v1/account/2fa", nil, 200, &begin)
			// Restarting gives a new secret; the last one counts.
			ann.mustJSON("POST", "/api/v1/account/2fa", nil, 200, &begin)
			u, err := url.Parse(begin.URI)
			if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != begin.Secret ||
				!strings.HasPrefix(u.Query().Get("issuer"), "Signet ") || !strings.HasSuffix(u.Path, ":ann") {
				t.Fatalf("otpauth URI %q", begin.URI)
			}

			resp := ann.do("GET", "/api/v1/account/2fa/qr.png", nil, nil)
			img, err := png.Decode(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "no-store" ||
				err != nil || img.Bounds().Dx() != qrCodeSize {
				t.Fatalf("QR code: %s %q %q, %v", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), err)
			}

			other := h.anon()
			other.name = "ann"
			other.login(testPassword)
			oldCookie := ann.sessionCookie()

			a := &authenticator{}
			a.secret, _ = totpEncoding.DecodeString(begin.Secret)
			if code, body := ann.json("POST", "/api/v1/account/2fa/confirm", map[string]string{"code": wrongCode(a, clk.now())}, nil); code != 400 || !strings.Contains(string(body), msgCodeWrong) {
				t.Fatalf("confirm with a wrong code = %d %s", code, body)
			}
			var done struct {
				CSRFToken     string
				TwoFactor     bool
				RecoveryCodes []string
			}
			ann.mustJSON("POST", "/api/v1/account/2fa/confirm", map[string]string{"code": a.code(clk.now())}, 200, &done)
			if !done.TwoFactor || len(done.RecoveryCodes) != account.RecoveryCodeCount || done.CSRFToken == ann.csrf {
				t.Fatalf("confirmation = %+v", done)
			}
			ann.csrf = done.CSRFToken

			// The session was replaced, and the other one ended.
			if ann.sessionCookie() == oldCookie {
				t.Fatal("the session cookie did not change on confirmation")
			}
			resp = h.anon().do("GET", "/api/v1/account", nil, map[string]string{"Cookie": sessionCookie + "=" + oldCookie})
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("the replaced session = %s, want 401", resp.Status)
			}
			other.mustJSON("GET", "/api/v1/account", nil, 401, nil)

			ann.mustJSON("GET", "/api/v1/account", nil, 200, &me)
			if !me.TwoFactor || !me.TwoFactorEnabled || me.RecoveryCodesLeft == nil || *me.RecoveryCodesLeft != account.RecoveryCodeCount {
				t.Fatalf("account after enrolment = %+v", me)
			}
			ann.mustJSON("POST", "/api/v1/account/2fa", nil, 409, nil)
			ann.mustJSON("GET", "/api/v1/account/2fa/qr.png", nil, 409, nil)
			ann.mustJSON("POST", "/api/v1/account/2fa/confirm", map[string]string{"code": a.code(clk.now())}, 409, nil)
		})
	}
}

// TestTwoFactorLogin: with a second factor, a log-in needs a fresh TOTP
// code or an unused recovery code; each works once.
func TestTwoFactorLogin(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann := h.signup("ann")
			a := ann.enableTwoFactor(clk.now())
			enrolled := clk.now()
			ann.mustJSON("DELETE", "/api/v1/session", nil, 204, nil)

			var fresh string
			steps := []struct {
				name     string
				password string
				otp      func() string
				advance  time.Duration
				want     int
				message  string // in the error
			}{
				{"no code", testPassword, func() string { return "" }, 0, 401, msgCodeRequired},
				{"wrong code", testPassword, func() string { return wrongCode(a, clk.now()) }, 0, 401, msgCodeWrong},
				{"the confirming code", testPassword, func() string { return a.code(enrolled) }, 0, 401, msgCodeReplayed},
				{"wrong password, right code", "wrong password!", func() string { return a.code(clk.now()) }, account.TOTPPeriod, 401, msgBadLogin},
				{"fresh code", testPassword, func() string { fresh = a.code(clk.now()); return fresh }, 0, 200, ""},
				{"fresh code again", testPassword, func() string { return fresh }, 0, 401, msgCodeReplayed},
				{"previous step's code", testPassword, func() string { return a.code(enrolled) }, 0, 401, msgCodeReplayed},
				{"recovery code", testPassword, func() string { return a.recovery[0] }, 0, 200, ""},
				{"recovery code again", testPassword, func() string { return a.recovery[0] }, 0, 401, msgCodeWrong},
				{"recovery code, typed loosely", testPassword, func() string { return strings.ToUpper(strings.ReplaceAll(a.recovery[1], "-", " ")) }, 0, 200, ""},
				{"not a code", testPassword, func() string { return "let me in" }, 0, 401, msgCodeWrong},
				{"next step's code", testPassword, func() string { return a.code(clk.now()) }, account.TOTPPeriod, 200, ""},
			}
			for _, st := range steps {
				clk.advance(st.advance)
				c := h.anon()
				resp := c.do("POST", "/api/v1/session", jsonBody(map[string]string{"username": "ann", "password": st.password, "otp": st.otp()}),
					map[string]string{"Content-Type": "application/json"})
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					Error             string
					TwoFactorRequired bool
					TwoFactor         bool
				}
				json.Unmarshal(body, &out)
				if resp.StatusCode != st.want || !strings.Contains(out.Error, st.message) {
					t.Fatalf("%s: log-in = %s %s; want %d %q", st.name, resp.Status, body, st.want, st.message)
				}
				cookie := resp.Header.Get("Set-Cookie") != ""
				switch {
				case st.want == 200 && (!out.TwoFactor || !cookie):
					t.Fatalf("%s: session %s, cookie %v: want a two-factor session", st.name, body, cookie)
				case st.want != 200 && cookie:
					t.Fatalf("%s: refused log-in set a cookie", st.name)
				case st.want == 401 && st.message != msgBadLogin && !out.TwoFactorRequired:
					t.Fatalf("%s: %s lacks twoFactorRequired", st.name, body)
				}
			}
			var me accountJSON
			ann.login2(a, clk)
			ann.mustJSON("GET", "/api/v1/account", nil, 200, &me)
			if me.RecoveryCodesLeft == nil || *me.RecoveryCodesLeft != account.RecoveryCodeCount-2 {
				t.Fatalf("recovery codes left = %+v, want %d", me, account.RecoveryCodeCount-2)
			}
		})
	}
}

// login2 logs in with the next step's code.
func (c *client) login2(a *authenticator, clk *testClock) {
	c.h.t.Helper()
	clk.advance(account.TOTPPeriod)
	if code, body := c.loginCode(a.code(clk.now())); code != 200 {
		c.h.t.Fatalf("log-in with a fresh code = %d %s", code, body)
	}
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// TestTwoFactorRateLimit: wrong codes block an account's codes (not its
// password) for the window, also right ones; a success clears the count.
func TestTwoFactorRateLimit(t *testing.T) {
	clk := newTestClock()
	h := newFeed(t, sqliteBackend, clk.use)
	ann := h.signup("ann")
	a := ann.enableTwoFactor(clk.now())
	// A success forgets earlier failures.
	for range maxCodeFailures - 1 {
		ann.loginCode(wrongCode(a, clk.now()))
	}
	ann.login2(a, clk)
	for i := range maxCodeFailures {
		if code, _ := ann.loginCode(wrongCode(a, clk.now())); code != 401 {
			t.Fatalf("wrong code %d = %d, want 401", i+1, code)
		}
	}
	clk.advance(account.TOTPPeriod)
	if code, body := ann.loginCode(a.code(clk.now())); code != 429 || !strings.Contains(string(body), msgCodesBlocked) {
		t.Fatalf("right code after %d wrong ones = %d %s, want 429", maxCodeFailures, code, body)
	}
	if code, _ := ann.loginCode(a.recovery[0]); code != 429 {
		t.Fatalf("recovery code while blocked = %d, want 429", code)
	}
	// The password is still checked first, and not blocked.
	if code, body := ann.json("POST", "/api/v1/session", map[string]string{"username": "ann", "password": testPassword}, nil); code != 401 || !strings.Contains(string(body), "twoFactorRequired") {
		t.Fatalf("password alone while codes are blocked = %d %s", code, body)
	}
	// The confirmation and disabling endpoints share the limit.
	ann.mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": a.recovery[0]}, 429, nil)
	clk.advance(loginFailureWindow + time.Second)
	ann.login2(a, clk)
}

// TestTwoFactorDisable: disabling needs a code, ends the other sessions,
// and log-ins need the password only again.
func TestTwoFactorDisable(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann := h.signup("ann")
			h.anon().mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": "123456"}, 401, nil)
			ann.mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": "123456"}, 404, nil)
			// A pending enrolment is cancelled without a code.
			ann.mustJSON("POST", "/api/v1/account/2fa", nil, 200, nil)
			ann.mustJSON("DELETE", "/api/v1/account/2fa", nil, 204, nil)
			ann.mustJSON("GET", "/api/v1/account/2fa/qr.png", nil, 404, nil)

			a := ann.enableTwoFactor(clk.now())
			other := h.anon()
			other.name = "ann"
			other.login2(a, clk)
			for _, code := range []string{"", wrongCode(a, clk.now()), a.code(clk.now())} { // the last one: replayed
				ann.mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": code}, 400, nil)
			}
			ann.mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": a.recovery[3]}, 204, nil)
			other.mustJSON("GET", "/api/v1/account", nil, 401, nil)
			var me accountJSON
			ann.mustJSON("GET", "/api/v1/account", nil, 200, &me)
			if me.TwoFactorEnabled || !me.TwoFactor {
				t.Fatalf("account after disabling = %+v (the session stays a two-factor one)", me)
			}
			ann.mustJSON("DELETE", "/api/v1/session", nil, 204, nil)
			var s sessionJSON
			ann.mustJSON("POST", "/api/v1/session", map[string]string{"username": "ann", "password": testPassword}, 200, &s)
			if s.TwoFactor {
				t.Fatal("a password-only log-in made a two-factor session")
			}
			// Enrolling again gives a new secret and new recovery codes.
			ann.csrf = s.CSRFToken
			again := ann.enableTwoFactor(clk.now())
			if bytes.Equal(a.secret, again.secret) || again.recovery[0] == a.recovery[0] {
				t.Fatal("a new enrolment reused the old secret or recovery codes")
			}
		})
	}
}

// TestTwoFactorReplicas: two feeds on one database accept one code once,
// however the requests race.
func TestTwoFactorReplicas(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			st, bs := b.open(t)
			h1 := newFeedOn(t, st, bs, clk.use)
			h2 := newFeedOn(t, st, bs, clk.use)
			ann := h1.signup("ann")
			a := ann.enableTwoFactor(clk.now())
			clk.advance(account.TOTPPeriod)
			code := a.code(clk.now())
			const racers = 6
			statuses := make([]int, racers)
			var wg sync.WaitGroup
			for i := range racers {
				h := []*harness{h1, h2}[i%2]
				c := h.anon()
				c.name = "ann"
				wg.Go(func() {
					resp, err := c.http.Post(h.base+"/api/v1/session", "application/json",
						jsonBody(map[string]string{"username": "ann", "password": testPassword, "otp": code}))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			ok := 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusUnauthorized:
				default:
					t.Fatalf("statuses %v", statuses)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d log-ins with one code succeeded (%v), want 1", ok, racers, statuses)
			}
		})
	}
}
