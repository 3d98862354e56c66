package storetest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: the first push of an id registers it to the pushing account;
// later pushes need an owner.
func testFirstPushClaims(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	push(t, s, alice.ID, version("Contoso.Core", "1.0.0"))
	p, err := s.Package(ctx, "contoso.core")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "Contoso.Core" || !slices.Equal(names(p.Owners), []string{"alice"}) || p.RequiredSigner != 0 {
		t.Fatalf("Package = %+v", p)
	}
	// The registration keeps the case of the first push.
	got := push(t, s, alice.ID, version("CONTOSO.core", "1.1.0"))
	if got.PackageID != "Contoso.Core" {
		t.Fatalf("second push returned id %q, want the registration's Contoso.Core", got.PackageID)
	}
	_, err = s.CreateVersion(ctx, bob.ID, version("Contoso.Core", "2.0.0"))
	wantErr(t, "push by a non-owner", err, store.ErrNotOwner)
	_, err = s.CreateVersion(ctx, 0, version("Unregistered", "1.0.0"))
	wantErr(t, "push of a new id without an owner", err, store.ErrNotFound)
	push(t, s, 0, version("Contoso.Core", "3.0.0"))
	_, err = s.CreateVersion(ctx, 999999, version("Ghost", "1.0.0"))
	wantErr(t, "push by a missing account", err, store.ErrNotFound)
	for _, id := range []string{"Unregistered", "Ghost"} {
		if _, err := s.Package(ctx, id); !isNotFound(err) {
			t.Fatalf("a refused push registered %q: %v", id, err)
		}
	}
	vs, err := s.Versions(ctx, "contoso.core")
	if err != nil || !slices.Equal(versionStrings(vs), []string{"1.0.0", "1.1.0", "3.0.0"}) {
		t.Fatalf("Versions = %q, %v", versionStrings(vs), err)
	}
	_, err = s.Versions(ctx, "Unregistered")
	wantErr(t, "Versions(unregistered)", err, store.ErrNotFound)
	_, err = s.Package(ctx, "Unregistered")
	wantErr(t, "Package(unregistered)", err, store.ErrNotFound)
}

// Contract: every field of a version is stored as given.
func testVersionRoundTrip(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	cert := certificate(1)
	v := version("Fabrikam.Json", "2.0.0-rc.1")
	v.OriginalVersion = "2.0-RC.1+sha.abc"
	v.Prerelease, v.SemVer2 = true, true
	v.Tags = []string{"json", "serializer"}
	v.PackageTypes = []string{"DotnetTool"}
	v.DependencyGroups = json.RawMessage(`[{"targetFramework":"net8.0","dependencies":[{"id":"A","range":"[1.0.0, )"}]}]`)
	v.Extra = json.RawMessage(`{"summary":"s","projectUrl":"https://example.com"}`)
	v.SignerSHA256 = cert.SHA256
	v.Signature = json.RawMessage(`{"author":{"subject":"CN=Signer 1"}}`)
	v.SignatureStatus = "valid"
	created := push(t, s, alice.ID, v)
	if !reflect.DeepEqual(created, v) {
		t.Fatalf("CreateVersion returned\n%+v\nwant\n%+v", created, v)
	}
	for _, name := range []string{"2.0.0-rc.1", "2.0.0-RC.1"} {
		got, err := s.Version(ctx, "fabrikam.json", name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("Version(%q) =\n%+v\nwant\n%+v", name, got, v)
		}
	}
	_, err := s.Version(ctx, "fabrikam.json", "9.9.9")
	wantErr(t, "Version(missing)", err, store.ErrNotFound)

	// Defaults: missing JSON is stored as empty JSON, a zero time as now.
	bare := version("Bare", "1.0.0")
	bare.DependencyGroups, bare.Extra = nil, nil
	bare.Published = time.Time{}
	before := time.Now().Add(-time.Second)
	got := push(t, s, alice.ID, bare)
	if string(got.DependencyGroups) != "[]" || string(got.Extra) != "{}" || got.Signature != nil || got.SignerSHA256 != nil {
		t.Fatalf("defaults: %+v", got)
	}
	if got.Published.Before(before) || got.Published.After(time.Now().Add(time.Second)) {
		t.Fatalf("a zero Published was stored as %v, want now", got.Published)
	}
	stored, err := s.Version(ctx, "Bare", "1.0.0")
	if err != nil || !reflect.DeepEqual(stored, got) {
		t.Fatalf("Version(Bare) = %+v, %v; want %+v", stored, err, got)
	}
}

// Contract: malformed versions are ErrInvalid and change nothing.
func testVersionInvalid(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	tests := []struct {
		name   string
		mutate func(v *store.Version)
	}{
		{"empty id", func(v *store.Version) { v.PackageID = "" }},
		{"empty version", func(v *store.Version) { v.Version = "" }},
		{"empty original version", func(v *store.Version) { v.OriginalVersion = "" }},
		{"short SHA-512", func(v *store.Version) { v.SHA512 = v.SHA512[:32] }},
		{"no SHA-512", func(v *store.Version) { v.SHA512 = nil }},
		{"negative size", func(v *store.Version) { v.Size = -1 }},
		{"short signer", func(v *store.Version) { v.SignerSHA256 = []byte{1, 2, 3} }},
		{"tag with space", func(v *store.Version) { v.Tags = []string{"a b"} }},
		{"empty tag", func(v *store.Version) { v.Tags = []string{""} }},
		{"package type with space", func(v *store.Version) { v.PackageTypes = []string{"Dotnet Tool"} }},
		{"bad dependency JSON", func(v *store.Version) { v.DependencyGroups = json.RawMessage(`[{`) }},
		{"bad extra JSON", func(v *store.Version) { v.Extra = json.RawMessage(`nope`) }},
		{"bad signature JSON", func(v *store.Version) { v.Signature = json.RawMessage(`{"a":}`) }},
	}
	for _, tt := range tests {
		v := version("Invalid", "1.0.0")
		tt.mutate(&v)
		_, err := s.CreateVersion(ctx, alice.ID, v)
		wantErr(t, tt.name, err, store.ErrInvalid)
	}
	if _, err := s.Package(ctx, "Invalid"); !isNotFound(err) {
		t.Fatalf("invalid pushes registered the id: %v", err)
	}
}

// Contract: a version exists once per id ignoring case; a second push is
// ErrConflict and changes nothing.
func testVersionConflict(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	first := version("Dup", "1.0.0-Beta")
	push(t, s, alice.ID, first)
	for _, v := range []store.Version{version("Dup", "1.0.0-Beta"), version("dup", "1.0.0-beta"), version("DUP", "1.0.0-BETA")} {
		v.Title = "replacement"
		_, err := s.CreateVersion(ctx, alice.ID, v)
		wantErr(t, "CreateVersion("+v.PackageID+" "+v.Version+")", err, store.ErrConflict)
	}
	got, err := s.Version(ctx, "Dup", "1.0.0-beta")
	if err != nil || got.Title != first.Title || got.Version != "1.0.0-Beta" {
		t.Fatalf("after conflicts: %+v, %v", got, err)
	}
}

// Contract: Versions lists in NuGet's order, not the text's.
func testVersionOrder(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	want := []string{"0.9.0", "1.0.0-alpha", "1.0.0-beta.2", "1.0.0-beta.10", "1.0.0-RC", "1.0.0", "1.0.0.1", "1.0.1", "2.0.0", "10.0.0"}
	for _, i := range []int{5, 9, 0, 3, 7, 1, 8, 2, 6, 4} {
		push(t, s, alice.ID, version("Ordered", want[i]))
	}
	vs, err := s.Versions(ctx, "ordered")
	if err != nil {
		t.Fatal(err)
	}
	if got := versionStrings(vs); !slices.Equal(got, want) {
		t.Fatalf("Versions = %q\nwant %q", got, want)
	}
}

// Contract: listing and signature status change one version.
func testListedAndSignature(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	cert := certificate(1)
	for _, ver := range []string{"1.0.0", "2.0.0"} {
		v := version("Lister", ver)
		v.SignerSHA256 = cert.SHA256
		v.Signature = json.RawMessage(`{"v":"` + ver + `"}`)
		v.SignatureStatus = "valid"
		push(t, s, alice.ID, v)
	}
	push(t, s, alice.ID, version("Other", "1.0.0"))
	if err := s.SetListed(ctx, "lister", "1.0.0", false); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx, "Lister", "1.0.0"); v.Listed {
		t.Fatal("SetListed(false) did not unlist")
	}
	if v, _ := s.Version(ctx, "Lister", "2.0.0"); !v.Listed {
		t.Fatal("SetListed unlisted another version")
	}
	if err := s.SetListed(ctx, "Lister", "1.0.0", true); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx, "Lister", "1.0.0"); !v.Listed {
		t.Fatal("SetListed(true) did not relist")
	}
	wantErr(t, "SetListed(missing version)", s.SetListed(ctx, "Lister", "3.0.0", false), store.ErrNotFound)
	wantErr(t, "SetListed(missing id)", s.SetListed(ctx, "Nope", "1.0.0", false), store.ErrNotFound)

	if err := s.SetSignatureStatus(ctx, "Lister", "1.0.0", "revoked", nil); err != nil {
		t.Fatal(err)
	}
	v, _ := s.Version(ctx, "Lister", "1.0.0")
	if v.SignatureStatus != "revoked" || string(v.Signature) != `{"v":"1.0.0"}` {
		t.Fatalf("status only: %q %s", v.SignatureStatus, v.Signature)
	}
	if err := s.SetSignatureStatus(ctx, "Lister", "1.0.0", "valid", json.RawMessage(`{"re":"checked"}`)); err != nil {
		t.Fatal(err)
	}
	v, _ = s.Version(ctx, "Lister", "1.0.0")
	if v.SignatureStatus != "valid" || string(v.Signature) != `{"re":"checked"}` {
		t.Fatalf("status and facts: %q %s", v.SignatureStatus, v.Signature)
	}
	if v2, _ := s.Version(ctx, "Lister", "2.0.0"); v2.SignatureStatus != "valid" || string(v2.Signature) != `{"v":"2.0.0"}` {
		t.Fatalf("SetSignatureStatus changed another version: %+v", v2)
	}
	wantErr(t, "SetSignatureStatus(bad JSON)", s.SetSignatureStatus(ctx, "Lister", "1.0.0", "x", json.RawMessage("{")), store.ErrInvalid)
	wantErr(t, "SetSignatureStatus(missing)", s.SetSignatureStatus(ctx, "Lister", "9.0.0", "x", nil), store.ErrNotFound)

	refs, err := s.VersionsSignedBy(ctx, cert.SHA256)
	want := []store.VersionRef{{PackageID: "Lister", Version: "1.0.0"}, {PackageID: "Lister", Version: "2.0.0"}}
	if err != nil || !slices.Equal(refs, want) {
		t.Fatalf("VersionsSignedBy = %v, %v; want %v", refs, err, want)
	}
	if refs, err := s.VersionsSignedBy(ctx, certificate(2).SHA256); err != nil || len(refs) != 0 {
		t.Fatalf("VersionsSignedBy(unused) = %v, %v", refs, err)
	}
}
