package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: identities are registered per account, found by exact subject
// and issuer, and removed one by one; registering a certificate with its
// identity does both or neither.
func testIdentities(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", alice.ID)
	const subject, issuer = "CN=Contoso Signing,O=Contoso", "CN=Test CA"

	id, err := s.AddIdentity(ctx, alice.ID, subject, issuer)
	if err != nil || id.Subject != subject || id.Issuer != issuer || id.Created.IsZero() {
		t.Fatalf("AddIdentity = %+v, %v", id, err)
	}
	if _, err := s.AddIdentity(ctx, team.ID, subject, issuer); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddIdentity(ctx, alice.ID, subject, "CN=Other CA"); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddIdentity(ctx, alice.ID, subject, issuer)
	wantErr(t, "AddIdentity(again)", err, store.ErrConflict)
	_, err = s.AddIdentity(ctx, 999999, subject, issuer)
	wantErr(t, "AddIdentity(missing account)", err, store.ErrNotFound)
	long := strings.Repeat("x", 1025)
	for _, bad := range [][2]string{{"", issuer}, {subject, ""}, {long, issuer}, {subject, long}} {
		_, err = s.AddIdentity(ctx, bob.ID, bad[0], bad[1])
		wantErr(t, "AddIdentity(bad names)", err, store.ErrInvalid)
	}

	accounts := func(subject, issuer string) []string {
		t.Helper()
		as, err := s.IdentityAccounts(ctx, subject, issuer)
		if err != nil {
			t.Fatal(err)
		}
		return names(as)
	}
	if got := accounts(subject, issuer); !slices.Equal(got, []string{"alice", "Team"}) {
		t.Fatalf("IdentityAccounts = %q", got)
	}
	// Names are compared exactly.
	for _, other := range [][2]string{{strings.ToLower(subject), issuer}, {subject, issuer + " "}, {issuer, subject}} {
		if got := accounts(other[0], other[1]); len(got) != 0 {
			t.Fatalf("IdentityAccounts(%q, %q) = %q, want none", other[0], other[1], got)
		}
	}
	ids, err := s.AccountIdentities(ctx, alice.ID)
	if err != nil || len(ids) != 2 || ids[0].Issuer != issuer || ids[1].Issuer != "CN=Other CA" {
		t.Fatalf("AccountIdentities(alice) = %+v, %v", ids, err)
	}
	if ids, err := s.AccountIdentities(ctx, bob.ID); err != nil || len(ids) != 0 {
		t.Fatalf("AccountIdentities(bob) = %+v, %v", ids, err)
	}

	if err := s.RemoveIdentity(ctx, alice.ID, subject, issuer); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveIdentity(again)", s.RemoveIdentity(ctx, alice.ID, subject, issuer), store.ErrNotFound)
	wantErr(t, "RemoveIdentity(never added)", s.RemoveIdentity(ctx, bob.ID, subject, issuer), store.ErrNotFound)
	if got := accounts(subject, issuer); !slices.Equal(got, []string{"Team"}) {
		t.Fatalf("IdentityAccounts after removal = %q", got)
	}
}

// Contract: AddCertificateWithIdentity registers both at once, keeps an
// identity the account has, and on a conflict registers neither.
func testCertificateWithIdentity(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	c1, c2 := certificate(1), certificate(2)

	counts := func(a store.User) [2]int {
		t.Helper()
		certs, ids, err := s.CountSigningCredentials(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return [2]int{certs, ids}
	}
	if got := counts(alice); got != [2]int{0, 0} {
		t.Fatalf("CountSigningCredentials(new user) = %v", got)
	}
	got, err := s.AddCertificateWithIdentity(ctx, alice.ID, c1)
	if err != nil || got.Subject != c1.Subject {
		t.Fatalf("AddCertificateWithIdentity = %+v, %v", got, err)
	}
	if as, err := s.IdentityAccounts(ctx, c1.Subject, c1.Issuer); err != nil || !slices.Equal(names(as), []string{"alice"}) {
		t.Fatalf("IdentityAccounts = %q, %v", names(as), err)
	}
	// The same identity with another certificate: the identity is kept.
	c2.Subject = c1.Subject
	if _, err := s.AddCertificateWithIdentity(ctx, alice.ID, c2); err != nil {
		t.Fatalf("AddCertificateWithIdentity(second certificate, same identity): %v", err)
	}
	if got := counts(alice); got != [2]int{2, 1} {
		t.Fatalf("CountSigningCredentials(alice) = %v, want [2 1]", got)
	}
	_, err = s.AddCertificateWithIdentity(ctx, alice.ID, c1)
	wantErr(t, "AddCertificateWithIdentity(again)", err, store.ErrConflict)

	// A conflict registers no identity either.
	if _, err := s.AddCertificate(ctx, bob.ID, c1); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddCertificateWithIdentity(ctx, bob.ID, c1)
	wantErr(t, "AddCertificateWithIdentity(bob again)", err, store.ErrConflict)
	if got := counts(bob); got != [2]int{1, 0} {
		t.Fatalf("CountSigningCredentials(bob) after a conflict = %v, want [1 0]", got)
	}
	noSubject := certificate(3)
	noSubject.Subject = ""
	_, err = s.AddCertificateWithIdentity(ctx, bob.ID, noSubject)
	wantErr(t, "AddCertificateWithIdentity(empty subject)", err, store.ErrInvalid)
	bad := certificate(4)
	bad.DER = append(bad.DER, 0)
	_, err = s.AddCertificateWithIdentity(ctx, bob.ID, bad)
	wantErr(t, "AddCertificateWithIdentity(fingerprint mismatch)", err, store.ErrInvalid)
	_, err = s.AddCertificateWithIdentity(ctx, 999999, certificate(5))
	wantErr(t, "AddCertificateWithIdentity(missing account)", err, store.ErrNotFound)
	if got := counts(bob); got != [2]int{1, 0} {
		t.Fatalf("CountSigningCredentials(bob) = %v, want [1 0]", got)
	}
}
