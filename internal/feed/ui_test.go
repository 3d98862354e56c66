package feed

import (
	"bytes"
	"encoding/base32"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/store"
)

// The web UI over net/http: headers, CSRF refusals, escaping, the log-in
// with a second factor, uploads and package management through forms.

// page is a fetched page.
type page struct {
	code   int
	header http.Header
	body   string
	loc    string // Location of a redirect
}

// browser is a client that does not follow redirects, as a test of forms
// wants to see them.
func (h *harness) browser() *client {
	c := h.anon()
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func (c *client) get(path string) page {
	c.h.t.Helper()
	resp := c.do("GET", path, nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{code: resp.StatusCode, header: resp.Header, body: string(b), loc: resp.Header.Get("Location")}
}

// post sends a urlencoded form with extra headers.
func (c *client) post(path string, form url.Values, header map[string]string) page {
	c.h.t.Helper()
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		hdr[k] = v
	}
	resp := c.do("POST", path, strings.NewReader(form.Encode()), hdr)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{code: resp.StatusCode, header: resp.Header, body: string(b), loc: resp.Header.Get("Location")}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token is the CSRF token of the first form of a page.
func (c *client) token(path string) string {
	c.h.t.Helper()
	p := c.get(path)
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		c.h.t.Fatalf("GET %s = %d: no CSRF token in the page", path, p.code)
	}
	return m[1]
}

// uiSignup signs up through the form and returns the logged-in client.
func (h *harness) uiSignup(name string) *client {
	h.t.Helper()
	c := h.browser()
	c.name = name
	p := c.post("/signup", url.Values{"csrf_token": {c.token("/signup")}, "username": {name},
		"email": {name + "@example.com"}, "password": {testPassword}}, nil)
	if p.code != http.StatusSeeOther || !strings.HasSuffix(p.loc, "/account?done=signed-up") {
		h.t.Fatalf("sign-up = %d %s", p.code, p.body)
	}
	return c
}

func TestUIHeaders(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice := h.signup("alice")
	alice.mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Alice.Lib"}))
	anon, user := h.browser(), h.uiSignup("bob")
	tests := []struct {
		c       *client
		path    string
		code    int
		noStore bool
	}{
		{anon, "/", 200, false},
		{anon, "/packages?q=alice", 200, false},
		{anon, "/packages/alice.lib", 200, false},
		{anon, "/packages/Alice.Lib/1.0.0", 200, false},
		{anon, "/packages/Nope", 404, false},
		{anon, "/packages/Alice.Lib/9.9.9", 404, false},
		{anon, "/login", 200, true},
		{anon, "/signup", 200, true},
		{user, "/", 200, true},
		{user, "/packages/Alice.Lib", 200, true},
		{user, "/account", 200, true},
		{user, "/upload", 200, true},
		{user, "/packages/Alice.Lib/manage", 403, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := tt.c.get(tt.path)
			if p.code != tt.code {
				t.Fatalf("GET %s = %d, want %d", tt.path, p.code, tt.code)
			}
			want := map[string]string{"Content-Security-Policy": uiCSP, "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "DENY", "Content-Type": "text/html; charset=utf-8"}
			for k, v := range want {
				if got := p.header.Get(k); got != v {
					t.Errorf("%s: %s = %q, want %q", tt.path, k, got, v)
				}
			}
			if got := p.header.Get("Cache-Control") == "no-store"; got != tt.noStore {
				t.Errorf("%s: Cache-Control %q, want no-store %v", tt.path, p.header.Get("Cache-Control"), tt.noStore)
			}
			if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, " onclick") {
				t.Errorf("%s: inline script or style in the page", tt.path)
			}
		})
	}
	// Anonymous pages redirect to the log-in; static assets are cacheable.
	if p := anon.get("/account"); p.code != http.StatusSeeOther || !strings.Contains(p.loc, "/login?next=%2Faccount") {
		t.Errorf("GET /account anonymously = %d %q", p.code, p.loc)
	}
	if p := anon.get("/static/site.css"); p.code != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") ||
		!strings.Contains(p.header.Get("Cache-Control"), "max-age") {
		t.Errorf("GET /static/site.css = %d %v", p.code, p.header)
	}
	for _, bad := range []string{"/static/..%2Flayout.html", "/static/.hidden", "/static/nope.css"} {
		if p := anon.get(bad); p.code != 404 {
			t.Errorf("GET %s = %d, want 404", bad, p.code)
		}
	}
}

// TestUICSRF: every form refuses a request without the right token, or
// from another origin, and changes nothing.
func TestUICSRF(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice := h.uiSignup("alice")
	good := alice.token("/account")
	h.signup("carol").mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Carol.Lib"}))
	aliceID := mustAccount(t, h.store, "alice").ID
	keys := func() int {
		ks, err := h.store.APIKeys(ctx, aliceID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ks)
	}
	tests := []struct {
		name   string
		token  string
		origin string
	}{
		{"no token", "", ""},
		{"wrong token", "AAAA" + good[4:], ""},
		{"another site", good, "https://evil.example"},
		{"opaque origin", good, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.origin != "" {
				hdr["Origin"] = tt.origin
			}
			forms := []struct {
				path string
				form url.Values
			}{
				{"/account/apikeys", url.Values{"name": {"k"}, "scope": {"package:push"}, "expires": {"30"}}},
				{"/account/2fa", nil},
				{"/account/organizations", url.Values{"name": {"Org" + strings.ReplaceAll(tt.name, " ", "")}, "email": {"o@example.com"}}},
				{"/logout", nil},
			}
			for _, f := range forms {
				form := url.Values{}
				for k, v := range f.form {
					form[k] = v
				}
				if tt.token != "" {
					form.Set(csrfField, tt.token)
				}
				if p := alice.post(f.path, form, hdr); p.code != http.StatusForbidden || !strings.Contains(p.body, "This form has expired") {
					t.Errorf("POST %s = %d, want 403", f.path, p.code)
				}
			}
			anon := h.browser()
			// The anonymous forms: their own token, spoilt as the case says.
			anonToken := anon.token("/login")
			switch tt.name {
			case "no token":
				anonToken = ""
			case "wrong token":
				anonToken = good
			}
			p := anon.post("/signup", url.Values{csrfField: {anonToken}, "username": {"mallory"}, "email": {"m@example.com"},
				"password": {testPassword}}, hdr)
			if p.code != http.StatusForbidden {
				t.Errorf("POST /signup = %d, want 403", p.code)
			}
			if p := anon.post("/login", url.Values{csrfField: {anonToken}, "username": {"alice"}, "password": {testPassword}}, hdr); p.code != http.StatusForbidden {
				t.Errorf("POST /login = %d, want 403", p.code)
			}
		})
	}
	if n := keys(); n != 0 {
		t.Errorf("refused forms created %d keys", n)
	}
	if _, err := h.store.UserByName(ctx, "mallory"); err == nil {
		t.Error("a refused sign-up created the user")
	}
	if _, err := h.store.TwoFactor(ctx, aliceID); err == nil {
		t.Error("a refused form started a two-factor enrolment")
	}
	if p := alice.get("/account"); p.code != 200 {
		t.Errorf("the session ended by a refused log-out: %d", p.code)
	}
	// The same forms with the token and the feed's own origin work.
	origin := map[string]string{"Origin": h.base}
	if p := alice.post("/account/apikeys", url.Values{csrfField: {good}, "name": {"k"}, "scope": {"package:push"}, "expires": {"30"}}, origin); p.code != http.StatusCreated || !strings.Contains(p.body, `id="new-key"`) {
		t.Fatalf("creating a key = %d", p.code)
	}
	if n := keys(); n != 1 {
		t.Errorf("keys = %d, want 1", n)
	}
	if p := alice.post("/logout", url.Values{csrfField: {good}}, origin); p.code != http.StatusSeeOther {
		t.Errorf("log-out = %d", p.code)
	}
	if p := alice.get("/account"); p.code != http.StatusSeeOther {
		t.Errorf("after log-out GET /account = %d", p.code)
	}
}

// TestUIEscaping: hostile package metadata and READMEs reach the page as
// text.
func TestUIEscaping(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice := h.signup("alice")
	const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	readme := "# Title <script>alert(3)</script>\n\n[click](javascript:alert(4)) and <https://example.com/ok>\n\n" +
		"<iframe src=https://evil.example></iframe>\n\n![img](https://evil.example/x.png)\n"
	alice.mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Hostile.Pkg", Authors: hostile, Description: "desc " + hostile,
		Files: map[string][]byte{"README.md": []byte(readme)},
		ExtraMetadata: `<readme>README.md</readme><projectUrl>javascript:alert(5)</projectUrl>` +
			`<summary>&lt;b&gt;bold&lt;/b&gt;</summary><tags>a&lt;script&gt;</tags>`}))
	anon := h.browser()
	for _, path := range []string{"/packages/Hostile.Pkg", "/packages?q=hostile", "/"} {
		p := anon.get(path)
		if p.code != 200 {
			t.Fatalf("GET %s = %d", path, p.code)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<iframe", "javascript:", "<b>bold", `src="https://evil`} {
			if strings.Contains(p.body, bad) {
				t.Errorf("%s: the page contains %q", path, bad)
			}
		}
		if !strings.Contains(p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the description is not shown escaped", path)
		}
	}
	p := anon.get("/packages/Hostile.Pkg")
	for _, want := range []string{`<h3>Title &lt;script&gt;alert(3)&lt;/script&gt;</h3>`, `<a href="https://example.com/ok" rel="nofollow noopener noreferrer ugc">`,
		`&lt;iframe src=https://evil.example&gt;`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the README lacks %q", want)
		}
	}
}

// TestUILoginTwoFactor: enrolment through the forms, then a log-in that
// asks for the code, refuses a wrong one, takes a recovery code, and
// rotates the session.
func TestUILoginTwoFactor(t *testing.T) {
	clk := newTestClock()
	h := newFeed(t, sqliteBackend, clk.use)
	alice := h.uiSignup("alice")
	tok := alice.token("/account")
	if p := alice.post("/account/2fa", url.Values{csrfField: {tok}}, nil); p.code != http.StatusSeeOther {
		t.Fatalf("starting enrolment = %d", p.code)
	}
	enrol := alice.get("/account/2fa")
	m := regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`).FindStringSubmatch(enrol.body)
	if enrol.code != 200 || m == nil || enrol.header.Get("Cache-Control") != "no-store" || !strings.Contains(enrol.body, `href="otpauth://totp/`) {
		t.Fatalf("enrolment page = %d, secret %v", enrol.code, m)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	if p := alice.post("/account/2fa/confirm", url.Values{csrfField: {tok}, "code": {"000000"}}, nil); p.code != http.StatusBadRequest ||
		!strings.Contains(p.body, "The authentication code is wrong") {
		t.Fatalf("confirming with a wrong code = %d", p.code)
	}
	before := alice.sessionCookie()
	done := alice.post("/account/2fa/confirm", url.Values{csrfField: {tok}, "code": {account.TOTPCode(secret, clk.now())}}, nil)
	codes := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(done.body, -1)
	if done.code != 200 || len(codes) != account.RecoveryCodeCount || done.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirmation = %d with %d recovery codes", done.code, len(codes))
	}
	if alice.sessionCookie() == before {
		t.Error("enabling two-factor authentication kept the session")
	}
	if p := alice.get("/account"); p.code != 200 || !strings.Contains(p.body, "with two-factor authentication") {
		t.Fatalf("account after enrolment = %d", p.code)
	}

	c := h.browser()
	c.name = "alice"
	tok = c.token("/login")
	step1 := c.post("/login", url.Values{csrfField: {tok}, "username": {"alice"}, "password": {testPassword}, "next": {"/upload"}}, nil)
	if step1.code != 200 || !strings.Contains(step1.body, ">Authentication code</label>") || c.sessionCookie() != "" {
		t.Fatalf("password step = %d, session %q", step1.code, c.sessionCookie())
	}
	clk.advance(30 * time.Second)
	form := url.Values{csrfField: {tok}, "username": {"alice"}, "password": {testPassword}, "next": {"/upload"}, "step": {"code"}}
	tests := []struct {
		name string
		otp  string
		code int
		want string
	}{
		{"empty", "", http.StatusBadRequest, "Type the code"},
		{"wrong", wrongCode(&authenticator{secret: secret}, clk.now()), http.StatusUnauthorized, "The authentication code is wrong"},
		{"wrong password", "123456", http.StatusUnauthorized, "username or password is wrong"},
		{"recovery code", codes[0][1], http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("otp", tt.otp)
		if tt.name == "wrong password" {
			f.Set("password", "not the password at all")
		}
		p := c.post("/login", f, nil)
		if p.code != tt.code || !strings.Contains(p.body, tt.want) {
			t.Errorf("%s: log-in = %d, want %d with %q", tt.name, p.code, tt.code, tt.want)
		}
		if tt.code == http.StatusSeeOther && !strings.HasSuffix(p.loc, "/upload") {
			t.Errorf("%s: redirected to %q", tt.name, p.loc)
		}
	}
	if p := c.get("/account"); p.code != 200 || !strings.Contains(p.body, "9 recovery") {
		t.Errorf("after a recovery-code log-in GET /account = %d", p.code)
	}
	// A log-in never sends to another site.
	for _, next := range []string{"//evil.example", "https://evil.example", `/\evil.example`} {
		if got := safeNext(next); got != "/account" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
}

// uploadForm is the upload page's form: the CSRF token and the owner
// before the file, as a browser sends them.
func uploadForm(token, owner string, nupkg []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField(csrfField, token)
	if owner != "" {
		mw.WriteField("owner", owner)
	}
	fw, _ := mw.CreateFormFile("package", "package.nupkg")
	fw.Write(nupkg)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func (c *client) upload2(token, owner string, nupkg []byte) page {
	c.h.t.Helper()
	body, ct := uploadForm(token, owner, nupkg)
	resp := c.do("POST", "/upload", bytes.NewReader(body), map[string]string{"Content-Type": ct})
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{code: resp.StatusCode, header: resp.Header, body: string(b), loc: resp.Header.Get("Location")}
}

// TestUIUploadAndManage: uploads from a session go through the push
// pipeline with its messages; owners manage co-owners, the required
// signer and listing with forms.
func TestUIUploadAndManage(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice, bob := h.uiSignup("alice"), h.uiSignup("bob")
	tok := alice.token("/upload")
	pkg := func(id, v string) []byte { return nupkgtest.Bytes(t, nupkgtest.Spec{ID: id, Version: v}) }
	tests := []struct {
		name  string
		c     *client
		token string
		owner string
		pkg   []byte
		code  int
		want  string
	}{
		{"upload", alice, tok, "", pkg("Alice.Lib", "1.0.0"), http.StatusSeeOther, "/packages/Alice.Lib/1.0.0?done=uploaded"},
		{"again", alice, tok, "", pkg("Alice.Lib", "1.0.0"), http.StatusConflict, "already exists and cannot be modified"},
		{"not a package", alice, tok, "", []byte("not a zip"), http.StatusBadRequest, "The package is not a valid zip archive"},
		{"another's id", bob, bob.token("/upload"), "", pkg("Alice.Lib", "2.0.0"), http.StatusForbidden, "belongs to other owners"},
		{"as a stranger org", alice, tok, "Nope", pkg("Alice.Other", "1.0.0"), http.StatusForbidden, "not as &#34;Nope&#34;"},
		{"no token", alice, "", "", pkg("Alice.Lib", "3.0.0"), http.StatusForbidden, "This form has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.c.upload2(tt.token, tt.owner, tt.pkg)
			if p.code != tt.code || !strings.Contains(p.body+p.loc, tt.want) {
				t.Fatalf("upload = %d %q, want %d with %q\n%s", p.code, p.loc, tt.code, tt.want, p.body)
			}
		})
	}
	if _, err := h.store.Version(ctx, "Alice.Lib", "3.0.0"); err == nil {
		t.Fatal("an upload without the token was stored")
	}

	path := "/packages/Alice.Lib"
	mtok := alice.token(path + "/manage")
	steps := []struct {
		path string
		form url.Values
		done string
	}{
		{path + "/owners", url.Values{"owner": {"bob"}}, "owner-added"},
		{path + "/required-signer", url.Values{"signer": {"bob"}}, "signer-saved"},
		{path + "/1.0.0/listing", url.Values{"listed": {"false"}}, "unlisted"},
	}
	for _, s := range steps {
		s.form.Set(csrfField, mtok)
		if p := alice.post(s.path, s.form, nil); p.code != http.StatusSeeOther || !strings.HasSuffix(p.loc, "done="+s.done) {
			t.Fatalf("POST %s = %d %q %s", s.path, p.code, p.loc, p.body)
		}
	}
	p, err := h.store.Package(ctx, "Alice.Lib")
	if err != nil || len(p.Owners) != 2 || p.RequiredSigner != mustAccount(t, h.store, "bob").ID {
		t.Fatalf("package = %+v, %v", p, err)
	}
	if v, err := h.store.Version(ctx, "Alice.Lib", "1.0.0"); err != nil || v.Listed {
		t.Fatalf("version listed = %v, %v", v.Listed, err)
	}
	// Refusals show the API's message on the page.
	if p := alice.post(path+"/owners", url.Values{csrfField: {mtok}, "owner": {"nobody"}}, nil); p.code != 404 || !strings.Contains(p.body, "No account &#34;nobody&#34;") {
		t.Errorf("adding an unknown owner = %d", p.code)
	}
	if p := h.uiSignup("carol").get(path + "/manage"); p.code != http.StatusForbidden {
		t.Errorf("a stranger's manage page = %d", p.code)
	}
	// The package page shows the owners, and the manage link to owners.
	if pg := bob.get(path + "/1.0.0"); !strings.Contains(pg.body, "Manage package") || !strings.Contains(pg.body, "Unlisted") {
		t.Errorf("package page for a co-owner lacks the manage link or the unlisted badge")
	}
}

func TestFriendlyRange(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "any version"},
		{"(, )", "any version"},
		{"[1.0.0, )", "≥ 1.0.0"},
		{"(1.0.0, )", "> 1.0.0"},
		{"[1.0.0, 2.0.0)", "≥ 1.0.0 and < 2.0.0"},
		{"(, 2.0.0]", "≤ 2.0.0"},
		{"[1.2.3]", "= 1.2.3"},
		{"1.0.0", "1.0.0"},
		{"[", "["},
	}
	for _, tt := range tests {
		if got := friendlyRange(tt.in); got != tt.want {
			t.Errorf("friendlyRange(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVersionRowsWarning(t *testing.T) {
	signed := store.Version{Version: "1.0.0", Signature: []byte(`{"author":{"subject":"CN=A"}}`), SignatureStatus: "valid"}
	unsigned := func(v string) store.Version {
		return store.Version{Version: v, Signature: []byte(`{"repository":{"subject":"CN=R"}}`), SignatureStatus: "unsigned"}
	}
	rows := versionRows([]store.Version{unsigned("0.9.0"), signed, unsigned("1.1.0")}, nil, 2)
	if rows[0].Version != "1.1.0" || rows[0].SignedBefore != "1.0.0" || !rows[0].Current {
		t.Errorf("newest row = %+v, want 1.1.0 flagged after 1.0.0", rows[0])
	}
	if rows[2].Version != "0.9.0" || rows[2].SignedBefore != "" {
		t.Errorf("oldest row = %+v, want no warning", rows[2])
	}
}

// TestUIOrganizations: an organisation made and managed with forms; its
// certificates are its admins' to see, and need a two-factor log-in.
func TestUIOrganizations(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice, bob, carol := h.uiSignup("alice"), h.uiSignup("bob"), h.uiSignup("carol")
	tok := alice.token("/account")
	p := alice.post("/account/organizations", url.Values{csrfField: {tok}, "name": {"Contoso"}, "email": {"it@contoso.example"}}, nil)
	if p.code != http.StatusSeeOther || !strings.HasSuffix(p.loc, "/organizations/Contoso?done=org-created") {
		t.Fatalf("creating an organization = %d %q", p.code, p.loc)
	}
	if p := alice.post("/organizations/Contoso/members", url.Values{csrfField: {tok}, "username": {"bob"}, "role": {"collaborator"}}, nil); p.code != http.StatusSeeOther {
		t.Fatalf("adding a member = %d %s", p.code, p.body)
	}
	tests := []struct {
		c         *client
		code      int
		certForms bool
	}{
		{alice, 200, true},
		{bob, 200, false},
		{carol, 403, false},
	}
	for _, tt := range tests {
		p := tt.c.get("/organizations/Contoso")
		if p.code != tt.code || strings.Contains(p.body, "Certificate file") != tt.certForms {
			t.Errorf("%s: organization page = %d, certificate form %v", tt.c.name, p.code, strings.Contains(p.body, "Certificate file"))
		}
		if tt.code == 200 && !strings.Contains(p.body, ">bob</th>") {
			t.Errorf("%s: the members lack bob", tt.c.name)
		}
	}
	body, ct := formUpload(newTestCA(t).leaf("Contoso Signing", 1, devpki.LeafOptions{}).Raw, map[string]string{csrfField: tok})
	resp := alice.do("POST", "/organizations/Contoso/certificates", bytes.NewReader(body), map[string]string{"Content-Type": ct})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "needs a log-in with two-factor authentication") {
		t.Errorf("an organization certificate without a two-factor log-in = %d", resp.StatusCode)
	}
	if p := alice.post("/organizations/Contoso/members/bob/remove", url.Values{csrfField: {tok}}, nil); p.code != http.StatusSeeOther {
		t.Fatalf("removing a member = %d", p.code)
	}
	if p := bob.get("/organizations/Contoso"); p.code != http.StatusForbidden {
		t.Errorf("a removed member's organization page = %d", p.code)
	}
}

// TestSameOrigin: a form POST may come from the feed's public origin or
// from the host the browser used (127.0.0.1 browsed as localhost), never
// from another site.
func TestSameOrigin(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	tests := []struct {
		host, origin string
		want         bool
	}{
		{"127.0.0.1:5000", "", true},
		{"127.0.0.1:5000", h.base, true},
		{"localhost:5000", "http://localhost:5000", true},
		{"localhost:5000", "http://LOCALHOST:5000", true},
		{"localhost:5000", "https://evil.example", false},
		{"localhost:5000", "http://localhost:5001", false},
		{"localhost:5000", "null", false},
		{"localhost:5000", "file://localhost:5000", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/login", nil)
		r.Host = tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := h.srv.sameOrigin(r); got != tt.want {
			t.Errorf("Host %s, Origin %q: sameOrigin = %v, want %v", tt.host, tt.origin, got, tt.want)
		}
	}
}
