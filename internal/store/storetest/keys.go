package storetest

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

func keyHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Contract: keys are found by hash, listed and deleted per user.
func testAPIKeys(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", alice.ID)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 678000000, time.UTC)
	k1, err := s.CreateAPIKey(ctx, store.NewAPIKey{
		UserID: alice.ID, OwnerID: team.ID, Name: "ci",
		Hash:   keyHash("key one"),
		Scopes: []string{"package:push", "package:unlist"}, Globs: []string{"Contoso.*"},
		Expires: expires,
	})
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID == 0 || k1.OwnerID != team.ID || !k1.Expires.Equal(expires) || !k1.LastUsed.IsZero() {
		t.Fatalf("CreateAPIKey = %+v", k1)
	}
	k2, err := s.CreateAPIKey(ctx, store.NewAPIKey{UserID: alice.ID, OwnerID: alice.ID, Name: "laptop", Hash: keyHash("key two")})
	if err != nil {
		t.Fatal(err)
	}
	if k2.Scopes == nil || k2.Globs == nil || !k2.Expires.IsZero() {
		t.Fatalf("key without scopes or expiry = %+v", k2)
	}

	got, err := s.APIKeyByHash(ctx, keyHash("key one"))
	if err != nil || !reflect.DeepEqual(got, k1) {
		t.Fatalf("APIKeyByHash = %+v, %v; want %+v", got, err, k1)
	}
	_, err = s.APIKeyByHash(ctx, keyHash("wrong key"))
	wantErr(t, "APIKeyByHash(unknown)", err, store.ErrNotFound)

	_, err = s.CreateAPIKey(ctx, store.NewAPIKey{UserID: bob.ID, OwnerID: bob.ID, Hash: keyHash("key one")})
	wantErr(t, "CreateAPIKey(duplicate hash)", err, store.ErrConflict)
	_, err = s.CreateAPIKey(ctx, store.NewAPIKey{UserID: bob.ID, OwnerID: bob.ID, Hash: []byte("short")})
	wantErr(t, "CreateAPIKey(short hash)", err, store.ErrInvalid)
	_, err = s.CreateAPIKey(ctx, store.NewAPIKey{UserID: team.ID, OwnerID: team.ID, Hash: keyHash("org key")})
	wantErr(t, "CreateAPIKey(organisation as user)", err, store.ErrNotFound)
	_, err = s.CreateAPIKey(ctx, store.NewAPIKey{UserID: bob.ID, OwnerID: 999999, Hash: keyHash("ghost key")})
	wantErr(t, "CreateAPIKey(missing owner)", err, store.ErrNotFound)

	used := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	if err := s.TouchAPIKey(ctx, k1.ID, used); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.APIKeyByHash(ctx, keyHash("key one")); !got.LastUsed.Equal(used) {
		t.Fatalf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	wantErr(t, "TouchAPIKey(missing)", s.TouchAPIKey(ctx, 999999, used), store.ErrNotFound)

	keys, err := s.APIKeys(ctx, alice.ID)
	if err != nil || len(keys) != 2 || keys[0].Name != "ci" || keys[1].Name != "laptop" {
		t.Fatalf("APIKeys(alice) = %+v, %v", keys, err)
	}
	if keys, err := s.APIKeys(ctx, bob.ID); err != nil || len(keys) != 0 {
		t.Fatalf("APIKeys(bob) = %+v, %v", keys, err)
	}
	wantErr(t, "DeleteAPIKey(another user's)", s.DeleteAPIKey(ctx, bob.ID, k1.ID), store.ErrNotFound)
	if err := s.DeleteAPIKey(ctx, alice.ID, k1.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.APIKeyByHash(ctx, keyHash("key one"))
	wantErr(t, "APIKeyByHash(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIKey(deleted)", s.DeleteAPIKey(ctx, alice.ID, k1.ID), store.ErrNotFound)
}

// Contract: one certificate row is shared by the accounts that register it;
// unregistering unlinks.
func testCertificates(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", alice.ID)
	c1, c2 := certificate(1), certificate(2)

	got, err := s.AddCertificate(ctx, alice.ID, c1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SHA256, c1.SHA256) || !bytes.Equal(got.DER, c1.DER) || got.Subject != c1.Subject ||
		!got.NotAfter.Equal(c1.NotAfter) || got.Created.IsZero() || got.Revocation.Status != store.RevocationUnknown {
		t.Fatalf("AddCertificate = %+v", got)
	}
	if _, err := s.AddCertificate(ctx, team.ID, c1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCertificate(ctx, alice.ID, c2); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddCertificate(ctx, alice.ID, c1)
	wantErr(t, "AddCertificate(again)", err, store.ErrConflict)
	bad := c2
	bad.DER = append(slices.Clone(bad.DER), 0)
	_, err = s.AddCertificate(ctx, bob.ID, bad)
	wantErr(t, "AddCertificate(fingerprint mismatch)", err, store.ErrInvalid)
	_, err = s.AddCertificate(ctx, 999999, c2)
	wantErr(t, "AddCertificate(missing account)", err, store.ErrNotFound)

	fingerprints := func(cs []store.Certificate, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Subject)
		}
		return out
	}
	if got := fingerprints(s.AccountCertificates(ctx, alice.ID)); !slices.Equal(got, []string{"CN=Signer 1", "CN=Signer 2"}) {
		t.Fatalf("AccountCertificates(alice) = %q", got)
	}
	if got := fingerprints(s.AccountCertificates(ctx, team.ID)); !slices.Equal(got, []string{"CN=Signer 1"}) {
		t.Fatalf("AccountCertificates(team) = %q", got)
	}
	if got := fingerprints(s.AccountCertificates(ctx, bob.ID)); len(got) != 0 {
		t.Fatalf("AccountCertificates(bob) = %q", got)
	}
	holders, err := s.CertificateAccounts(ctx, c1.SHA256)
	if err != nil || !slices.Equal(names(holders), []string{"alice", "Team"}) {
		t.Fatalf("CertificateAccounts = %q, %v", names(holders), err)
	}

	if err := s.RemoveCertificate(ctx, alice.ID, c1.SHA256); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveCertificate(again)", s.RemoveCertificate(ctx, alice.ID, c1.SHA256), store.ErrNotFound)
	wantErr(t, "RemoveCertificate(never added)", s.RemoveCertificate(ctx, bob.ID, c1.SHA256), store.ErrNotFound)
	if got := fingerprints(s.AccountCertificates(ctx, alice.ID)); !slices.Equal(got, []string{"CN=Signer 2"}) {
		t.Fatalf("AccountCertificates(alice) after removal = %q", got)
	}
	if holders, _ := s.CertificateAccounts(ctx, c1.SHA256); !slices.Equal(names(holders), []string{"Team"}) {
		t.Fatalf("CertificateAccounts after removal = %q", names(holders))
	}
	if err := s.RemoveCertificate(ctx, team.ID, c1.SHA256); err != nil {
		t.Fatal(err)
	}
	// The row outlives its last registration.
	if c, err := s.Certificate(ctx, c1.SHA256); err != nil || c.Subject != c1.Subject {
		t.Fatalf("Certificate after unregistering = %+v, %v", c, err)
	}
	_, err = s.Certificate(ctx, certificate(3).SHA256)
	wantErr(t, "Certificate(unknown)", err, store.ErrNotFound)
	// Registering it again reuses the row.
	if _, err := s.AddCertificate(ctx, bob.ID, c1); err != nil {
		t.Fatal(err)
	}
	if all := fingerprints(s.Certificates(ctx)); len(all) != 2 {
		t.Fatalf("Certificates = %q, want 2", all)
	}
}

// Contract: revocation results are stored per certificate.
func testRevocation(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	c1, c2 := certificate(1), certificate(2)
	for _, c := range []store.Certificate{c1, c2} {
		if _, err := s.AddCertificate(ctx, alice.ID, c); err != nil {
			t.Fatal(err)
		}
	}
	r := store.Revocation{
		Status:    store.RevocationRevoked,
		Checked:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		RevokedAt: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC),
		Reason:    "keyCompromise",
	}
	if err := s.SetRevocation(ctx, c2.SHA256, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Certificate(ctx, c2.SHA256)
	if err != nil || got.Revocation != r {
		t.Fatalf("Revocation = %+v, %v; want %+v", got.Revocation, err, r)
	}
	// Never-checked certificates come first for the job.
	all, err := s.Certificates(ctx)
	if err != nil || len(all) != 2 || !bytes.Equal(all[0].SHA256, c1.SHA256) {
		t.Fatalf("Certificates order: %+v, %v", all, err)
	}
	wantErr(t, "SetRevocation(bad status)", s.SetRevocation(ctx, c1.SHA256, store.Revocation{Status: "maybe"}), store.ErrInvalid)
	wantErr(t, "SetRevocation(unknown)", s.SetRevocation(ctx, certificate(9).SHA256, r), store.ErrNotFound)
	if err := s.SetRevocation(ctx, c2.SHA256, store.Revocation{Status: store.RevocationGood, Checked: r.Checked}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Certificate(ctx, c2.SHA256); got.Revocation.Status != store.RevocationGood || !got.Revocation.RevokedAt.IsZero() {
		t.Fatalf("after a good check: %+v", got.Revocation)
	}
}
