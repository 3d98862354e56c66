package feed

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// rawZip builds a zip archive with the entries given, in order.
func rawZip(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func nuspecXML(id, version string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata>`+
		`<id>%s</id><version>%s</version><authors>a</authors><description>d</description></metadata></package>`, id, version)
}

// TestPushRefusals: every bad package is a 400 (413 when too large) with
// its reason in the status line, and nothing of it is stored.
func TestPushRefusals(t *testing.T) {
	h := newFeed(t, sqliteBackend, func(c *Config) { c.MaxUpload = 1 << 20 })
	alice := h.signup("alice")
	bomb := func() []byte {
		// A highly compressible entry: ~250 KiB of zip expanding to 256 MiB.
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("Bomb.nuspec")
		w.Write([]byte(nuspecXML("Bomb", "1.0.0")))
		w, _ = zw.Create("lib/zeros.bin")
		zero := make([]byte, 1<<20)
		for range 256 {
			w.Write(zero)
		}
		zw.Close()
		return buf.Bytes()
	}()
	tests := []struct {
		name, want string
		code       int
		pkg        []byte
	}{
		{"not a zip", "The package is not a valid zip archive", 400, []byte("this is not a zip file at all")},
		{"empty", "The upload holds no package.", 400, nil},
		{"no nuspec", "The package manifest (.nuspec) is missing or invalid", 400, rawZip(t, [2]string{"lib/a.dll", "x"})},
		{"two nuspecs", "The package manifest (.nuspec) is missing or invalid", 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{"B.nuspec", nuspecXML("B", "1.0.0")})},
		{"bad xml", "The package manifest (.nuspec) is missing or invalid", 400, rawZip(t, [2]string{"A.nuspec", "<package><metadata>"})},
		{"bad id", "The package manifest (.nuspec) is missing or invalid", 400, rawZip(t, [2]string{"A.nuspec", nuspecXML("a..b", "1.0.0")})},
		{"bad version", "The package manifest (.nuspec) is missing or invalid", 400, rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0-")})},
		{"zip slip", `unsafe path: "../../etc/evil"`, 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{"../../etc/evil", "x"})},
		{"escaped zip slip", `unsafe path: "lib/%2E%2E/%2E%2E/evil"`, 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{"lib/%2E%2E/%2E%2E/evil", "x"})},
		{"absolute path", `unsafe path: "/etc/evil"`, 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{"/etc/evil", "x"})},
		{"drive path", `unsafe path: "C:\\evil"`, 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{`C:\evil`, "x"})},
		{"case collision", `more than once`, 400,
			rawZip(t, [2]string{"A.nuspec", nuspecXML("A", "1.0.0")}, [2]string{"lib/a.dll", "x"}, [2]string{"lib/A.dll", "y"})},
		{"zip bomb", "refused as a zip bomb", 400, bomb},
		{"missing readme", `The readme file "README.md" named in the manifest is not in the package.`, 400,
			nupkgtest.Bytes(t, nupkgtest.Spec{ID: "R", ExtraMetadata: "<readme>README.md</readme>"})},
		{"too large", "The package is larger than the feed's limit of 1048576 bytes.", 413,
			nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Big", Large: &nupkgtest.LargeFile{Name: "big.bin", Size: 2 << 20}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.push(alice.key, tt.pkg)
			if r.code != tt.code || !strings.Contains(r.status, tt.want) || !strings.Contains(r.body, tt.want) {
				t.Fatalf("push = %q %q; want %d with %q", r.status, r.body, tt.code, tt.want)
			}
		})
	}
	var keys []string
	for k, err := range h.blobs.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if len(keys) != 0 {
		t.Fatalf("refused pushes stored blobs: %v", keys)
	}
	if page, err := h.store.Search(ctx, storeQueryAll()); err != nil || page.Total != 0 {
		t.Fatalf("refused pushes stored packages: %d, %v", page.Total, err)
	}
}

// TestPushAuthorization covers keys, scopes, globs, ownership and
// reservations, with nuget.org's statuses and messages.
func TestPushAuthorization(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice, bob := h.signup("alice"), h.signup("bob")
	pkg := func(id, v string) []byte { return nupkgtest.Bytes(t, nupkgtest.Spec{ID: id, Version: v}) }
	alice.mustPush(pkg("Alice.Lib", "1.0.0"))

	key := func(c *client, body map[string]any) string {
		var k keyJSON
		c.mustJSON("POST", "/api/v1/apikeys", body, 201, &k)
		return k.Key
	}
	versionsOnly := key(alice, map[string]any{"name": "ci", "scopes": []string{"package:pushversion"}})
	globbed := key(alice, map[string]any{"name": "g", "scopes": []string{"package:push"}, "packages": []string{"Alice.*"}})
	unlistOnly := key(alice, map[string]any{"name": "u", "scopes": []string{"package:unlist"}})

	tests := []struct {
		name string
		key  string
		pkg  []byte
		code int
		want string
	}{
		{"no key", "", pkg("X", "1.0.0"), 401, msgBadKey},
		{"malformed key", "not-a-key", pkg("X", "1.0.0"), 403, msgBadKey},
		{"unknown key", "sgn_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", pkg("X", "1.0.0"), 403, msgBadKey},
		{"other owner's package", bob.key, pkg("Alice.Lib", "2.0.0"), 403, msgBadKey},
		{"pushversion key, new id", versionsOnly, pkg("Alice.New", "1.0.0"), 403, msgBadKey},
		{"pushversion key, new version", versionsOnly, pkg("Alice.Lib", "1.1.0"), 201, ""},
		{"glob match", globbed, pkg("Alice.Other", "1.0.0"), 201, ""},
		{"glob mismatch", globbed, pkg("Bob.Thing", "1.0.0"), 403, msgBadKey},
		{"unlist-only key", unlistOnly, pkg("Alice.Lib", "3.0.0"), 403, msgBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.push(tt.key, tt.pkg)
			if r.code != tt.code || !strings.Contains(r.status, tt.want) {
				t.Fatalf("push = %q %q; want %d %q", r.status, r.body, tt.code, tt.want)
			}
		})
	}

	// Unlisting needs the unlist scope and ownership.
	publish := alice.resource("PackagePublish/2.0.0")
	for _, tc := range []struct {
		key  string
		code int
	}{{versionsOnly, 403}, {bob.key, 403}, {unlistOnly, 200}} {
		resp := alice.do("DELETE", publish+"/Alice.Lib/1.0.0", nil, map[string]string{apiKeyHeader: tc.key})
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Fatalf("unlist = %s, want %d", resp.Status, tc.code)
		}
	}

	// A co-owner can push; removing them takes it away.
	alice.mustJSON("POST", "/api/v1/packages/Alice.Lib/owners", map[string]any{"owner": "bob"}, 204, nil)
	bob.mustPush(pkg("Alice.Lib", "4.0.0"))
	alice.mustJSON("DELETE", "/api/v1/packages/Alice.Lib/owners/bob", nil, 204, nil)
	if r := bob.push(bob.key, pkg("Alice.Lib", "5.0.0")); r.code != 403 {
		t.Fatalf("push by removed owner = %s", r.status)
	}
	alice.mustJSON("DELETE", "/api/v1/packages/Alice.Lib/owners/alice", nil, 409, nil) // last owner
	bob.mustJSON("POST", "/api/v1/packages/Alice.Lib/owners", map[string]any{"owner": "bob"}, 403, nil)

	// An ID prefix reservation (made by an administrator) keeps new ids
	// for its owners: 409 with nuget.org's message.
	admin := h.admin()
	admin.mustJSON("POST", "/api/v1/reservations", map[string]any{"pattern": "Contoso.*", "owners": []string{"alice"}}, 201, nil)
	alice.mustJSON("POST", "/api/v1/reservations", map[string]any{"pattern": "Alice.*", "owners": []string{"alice"}}, 403, nil)
	if r := bob.push(bob.key, pkg("Contoso.Thing", "1.0.0")); r.code != 409 || !strings.Contains(r.status, msgReserved) {
		t.Fatalf("push into a reserved prefix = %q", r.status)
	}
	alice.mustPush(pkg("Contoso.Thing", "1.0.0"))
	var rs []reservationJSON
	bob.mustJSON("GET", "/api/v1/reservations", nil, 200, &rs)
	if len(rs) != 1 || rs[0].Pattern != "Contoso." || !rs[0].Prefix || rs[0].Owners[0].Name != "alice" {
		t.Fatalf("reservations = %+v", rs)
	}
}

// admin makes a site administrator and logs it in.
func (h *harness) admin() *client {
	h.t.Helper()
	if _, err := EnsureAdmin(ctx, h.store, "root", "root@example.com", testPassword); err != nil {
		h.t.Fatal(err)
	}
	c := h.anon()
	c.name = "root"
	c.login(testPassword)
	return c
}
