package feed

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// TestAccountsAPI covers sign-up, log-in, sessions and their cookie.
func TestAccountsAPI(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	c := h.anon()
	bad := []struct {
		body map[string]any
		code int
		want string
	}{
		{map[string]any{"username": "a b", "password": testPassword, "email": "a@example.com"}, 400, "is not valid"},
		{map[string]any{"username": "ann", "password": "short", "email": "a@example.com"}, 400, "password"},
		{map[string]any{"username": "ann", "password": testPassword, "email": "nope"}, 400, "e-mail"},
		{map[string]any{"username": "ann", "password": testPassword, "email": "a@example.com", "admin": true}, 403, "administrator"},
		{map[string]any{"username": "ann", "password": testPassword, "email": "a@example.com", "extra": 1}, 400, "unknown field"},
	}
	for _, b := range bad {
		if code, body := c.json("POST", "/api/v1/users", b.body, nil); code != b.code || !strings.Contains(string(body), b.want) {
			t.Errorf("sign-up %v = %d %s; want %d %q", b.body, code, body, b.code, b.want)
		}
	}
	ann := h.signup("ann")
	if code, body := c.json("POST", "/api/v1/users", map[string]any{"username": "ANN", "password": testPassword, "email": "x@example.com"}, nil); code != 409 {
		t.Fatalf("duplicate name (other case) = %d %s", code, body)
	}

	// The session cookie is HttpOnly and SameSite; the API answers are not cached.
	resp := c.do("POST", "/api/v1/session", strings.NewReader(`{"username":"ann","password":"`+testPassword+`"}`),
		map[string]string{"Content-Type": "application/json"})
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 200 || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("log-in: %s, Set-Cookie %q", resp.Status, cookie)
	}

	var me struct {
		User      userJSON
		CSRFToken string
	}
	ann.mustJSON("GET", "/api/v1/account", nil, 200, &me)
	if me.User.Username != "ann" || me.CSRFToken == "" {
		t.Fatalf("account = %+v", me)
	}
	h.anon().mustJSON("GET", "/api/v1/account", nil, 401, nil)

	// Wrong passwords are refused alike for unknown names, then limited.
	c.name = "ann"
	if code, body := c.json("POST", "/api/v1/session", map[string]any{"username": "ann", "password": "wrong password!"}, nil); code != 401 || !strings.Contains(string(body), msgBadLogin) {
		t.Fatalf("wrong password = %d %s", code, body)
	}
	if code, body := c.json("POST", "/api/v1/session", map[string]any{"username": "nobody", "password": "wrong password!"}, nil); code != 401 || !strings.Contains(string(body), msgBadLogin) {
		t.Fatalf("unknown user = %d %s", code, body)
	}
	for range maxLoginFailures {
		c.json("POST", "/api/v1/session", map[string]any{"username": "ann", "password": "wrong password!"}, nil)
	}
	if code, _ := c.json("POST", "/api/v1/session", map[string]any{"username": "ann", "password": testPassword}, nil); code != 429 {
		t.Fatalf("log-in after %d failures = %d, want 429", maxLoginFailures, code)
	}

	// Log-out ends the session.
	ann.mustJSON("DELETE", "/api/v1/session", nil, 204, nil)
	ann.mustJSON("GET", "/api/v1/account", nil, 401, nil)

	// Closed sign-up: only an administrator creates users.
	closed := newFeed(t, sqliteBackend, func(c *Config) { c.AllowSignup = false })
	closed.anon().mustJSON("POST", "/api/v1/users", map[string]any{"username": "eve", "password": testPassword, "email": "e@example.com"}, 403, nil)
	admin := closed.admin()
	admin.mustJSON("POST", "/api/v1/users", map[string]any{"username": "eve", "password": testPassword, "email": "e@example.com"}, 201, nil)
}

// TestCSRF: a request that a form of another site could send, with the
// session cookie, needs the CSRF token; JSON bodies do not.
func TestCSRF(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	ann := h.signup("ann")
	body := `{"name":"k","scopes":["package:push"]}`
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
		resp := ann.do("POST", "/api/v1/apikeys", strings.NewReader(body), map[string]string{"Content-Type": ct})
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("form-sendable %s without token = %s, want 403", ct, resp.Status)
		}
	}
	resp := ann.do("POST", "/api/v1/apikeys", strings.NewReader(body), map[string]string{"Content-Type": "text/plain", csrfHeader: "wrong"})
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("wrong token = %s", resp.Status)
	}
	// With the token the request passes the CSRF check (and fails only
	// because the body is not JSON).
	resp = ann.do("POST", "/api/v1/apikeys", strings.NewReader(body), map[string]string{"Content-Type": "text/plain", csrfHeader: ann.csrf})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("with token = %s, want 415", resp.Status)
	}
	resp = ann.do("POST", "/api/v1/apikeys", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("JSON body = %s, want 201", resp.Status)
	}
}

// TestAPIKeys covers listing, deleting, expiry and organisation keys.
func TestAPIKeys(t *testing.T) {
	var now = time.Now()
	h := newFeed(t, sqliteBackend, func(c *Config) { c.Now = func() time.Time { return now } })
	ann, bob := h.signup("ann"), h.signup("bob")
	var k keyJSON
	ann.mustJSON("POST", "/api/v1/apikeys", map[string]any{"name": "short", "scopes": []string{"package:push"}, "expiresInDays": 1}, 201, &k)
	if !strings.HasPrefix(k.Key, "sgn_") || k.Expires == nil || !k.Expires.Equal(now.AddDate(0, 0, 1).Truncate(time.Microsecond)) {
		t.Fatalf("created key = %+v", k)
	}
	for _, body := range []map[string]any{
		{"name": "", "scopes": []string{"package:push"}},
		{"name": "x", "scopes": []string{}},
		{"name": "x", "scopes": []string{"package:everything"}},
		{"name": "x", "scopes": []string{"package:push"}, "expiresInDays": 400},
		{"name": "x", "scopes": []string{"package:push"}, "packages": []string{"bad glob!"}},
	} {
		if code, _ := ann.json("POST", "/api/v1/apikeys", body, nil); code != 400 {
			t.Errorf("create key %v = %d, want 400", body, code)
		}
	}
	var list []keyJSON
	ann.mustJSON("GET", "/api/v1/apikeys", nil, 200, &list)
	if len(list) != 2 || list[1].Key != "" || list[1].Name != "short" {
		t.Fatalf("key list = %+v", list) // the key itself is never shown again
	}

	pkg := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Ann.Lib"})
	now = now.Add(25 * time.Hour)
	if r := ann.push(k.Key, pkg); r.code != 403 {
		t.Fatalf("push with expired key = %s", r.status)
	}
	ann.mustJSON("GET", "/api/v1/account", nil, 401, nil) // sessions expire too
	ann.login(testPassword)
	bob.login(testPassword)
	bob.mustJSON("DELETE", "/api/v1/apikeys/"+itoa(list[0].ID), nil, 404, nil) // not bob's
	ann.mustJSON("DELETE", "/api/v1/apikeys/"+itoa(list[0].ID), nil, 204, nil)
	if r := ann.push(ann.key, pkg); r.code != 403 {
		t.Fatalf("push with deleted key = %s", r.status)
	}

	// A key for an organisation pushes packages the organisation owns, and
	// stops working when its creator leaves the organisation.
	ann.mustJSON("POST", "/api/v1/organizations", map[string]any{"name": "Team", "email": "team@example.com"}, 201, nil)
	bob.mustJSON("POST", "/api/v1/apikeys", map[string]any{"name": "t", "scopes": []string{"package:push"}, "owner": "Team"}, 403, nil)
	ann.mustJSON("PUT", "/api/v1/organizations/Team/members/bob", map[string]any{"role": "collaborator"}, 204, nil)
	var orgKey keyJSON
	bob.mustJSON("POST", "/api/v1/apikeys", map[string]any{"name": "t", "scopes": []string{"package:push"}, "owner": "Team"}, 201, &orgKey)
	bob.mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Team.Lib"})) // bob's own key: bob owns it
	if r := bob.push(orgKey.Key, nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Team.Other"})); r.code != 201 {
		t.Fatalf("push with organisation key = %s", r.status)
	}
	var owners struct{ Owners []ownerJSON }
	bob.mustJSON("GET", "/api/v1/packages/Team.Other/owners", nil, 200, &owners)
	if len(owners.Owners) != 1 || owners.Owners[0].Name != "Team" || owners.Owners[0].Kind != "organization" {
		t.Fatalf("owners of an organisation push = %+v", owners)
	}
	ann.mustJSON("DELETE", "/api/v1/organizations/Team/members/bob", nil, 204, nil)
	if r := bob.push(orgKey.Key, nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Team.Other", Version: "2.0.0"})); r.code != 403 {
		t.Fatalf("organisation key after leaving = %s", r.status)
	}
	ann.mustJSON("DELETE", "/api/v1/organizations/Team/members/ann", nil, 409, nil) // last admin
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
