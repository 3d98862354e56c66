package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: user names are unique ignoring case across users and
// organisations, and keep their case.
func testUsers(t *testing.T, s *store.Store) {
	before := time.Now().Add(-time.Second)
	alice := user(t, s, "Alice")
	if alice.ID == 0 || alice.Kind != store.KindUser || alice.Name != "Alice" || alice.Admin || alice.Created.Before(before) {
		t.Fatalf("CreateUser returned %+v", alice)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := s.UserByName(ctx, name)
		if err != nil || got != alice {
			t.Fatalf("UserByName(%q) = %+v, %v; want %+v", name, got, err, alice)
		}
	}
	got, err := s.User(ctx, alice.ID)
	if err != nil || got != alice {
		t.Fatalf("User(%d) = %+v, %v", alice.ID, got, err)
	}
	_, err = s.CreateUser(ctx, store.NewUser{Name: "aLiCe"})
	wantErr(t, "CreateUser with a name taken in another case", err, store.ErrConflict)
	_, err = s.CreateUser(ctx, store.NewUser{})
	wantErr(t, "CreateUser with an empty name", err, store.ErrInvalid)

	admin, err := s.CreateUser(ctx, store.NewUser{Name: "root", Admin: true})
	if err != nil || !admin.Admin {
		t.Fatalf("CreateUser(admin) = %+v, %v", admin, err)
	}
	contoso := org(t, s, "Contoso", alice.ID)
	_, err = s.CreateUser(ctx, store.NewUser{Name: "contoso"})
	wantErr(t, "CreateUser with an organisation's name", err, store.ErrConflict)
	_, err = s.User(ctx, contoso.ID)
	wantErr(t, "User(organisation)", err, store.ErrNotFound)
	_, err = s.UserByName(ctx, "nobody")
	wantErr(t, "UserByName(missing)", err, store.ErrNotFound)

	a, err := s.AccountByName(ctx, "CONTOSO")
	if err != nil || a != contoso || a.Kind != store.KindOrganization {
		t.Fatalf("AccountByName = %+v, %v; want %+v", a, err, contoso)
	}
	if a, err := s.Account(ctx, alice.ID); err != nil || a != alice.Account {
		t.Fatalf("Account(alice) = %+v, %v", a, err)
	}
	_, err = s.Account(ctx, 999999)
	wantErr(t, "Account(missing)", err, store.ErrNotFound)

	users, admins, err := s.CountUsers(ctx)
	if err != nil || users != 2 || admins != 1 {
		t.Fatalf("CountUsers = %d, %d, %v; want 2, 1", users, admins, err)
	}
}

// Contract: updates change one user and report missing ones.
func testUserUpdates(t *testing.T, s *store.Store) {
	u := user(t, s, "bob")
	other := user(t, s, "carol")
	if err := s.SetPasswordHash(ctx, u.ID, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdmin(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEmail(ctx, u.ID, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, u.ID)
	if err != nil || got.PasswordHash != "$argon2id$new" || !got.Admin || got.Email != "bob@example.org" {
		t.Fatalf("after updates: %+v, %v", got, err)
	}
	if o, _ := s.User(ctx, other.ID); o != other {
		t.Fatalf("another user changed: %+v", o)
	}
	wantErr(t, "SetPasswordHash(missing)", s.SetPasswordHash(ctx, 999999, "x"), store.ErrNotFound)
	wantErr(t, "SetAdmin(missing)", s.SetAdmin(ctx, 999999, true), store.ErrNotFound)
	wantErr(t, "SetEmail(missing)", s.SetEmail(ctx, 999999, "x"), store.ErrNotFound)
}

// Contract: organisations have members with roles and always an admin.
func testOrganizations(t *testing.T, s *store.Store) {
	alice, bob, carol := user(t, s, "alice"), user(t, s, "bob"), user(t, s, "carol")
	o := org(t, s, "Fabrikam", alice.ID)
	if o.Kind != store.KindOrganization || o.Name != "Fabrikam" {
		t.Fatalf("CreateOrganization = %+v", o)
	}
	_, err := s.CreateOrganization(ctx, "fabrikam", "", bob.ID)
	wantErr(t, "CreateOrganization with a taken name", err, store.ErrConflict)
	_, err = s.CreateOrganization(ctx, "Other", "", o.ID)
	wantErr(t, "CreateOrganization with an organisation as admin", err, store.ErrNotFound)
	if _, err := s.AccountByName(ctx, "Other"); !isNotFound(err) {
		t.Fatalf("a failed CreateOrganization left an account: %v", err)
	}

	members := func() map[string]store.Role {
		ms, err := s.Members(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Role{}
		for _, m := range ms {
			out[m.User.Name] = m.Role
		}
		return out
	}
	if got := members(); len(got) != 1 || got["alice"] != store.RoleAdmin {
		t.Fatalf("members = %v, want alice as admin", got)
	}
	if err := s.SetMember(ctx, o.ID, bob.ID, store.RoleCollaborator); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, o.ID, carol.ID, store.RoleCollaborator); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "demoting the last admin", s.SetMember(ctx, o.ID, alice.ID, store.RoleCollaborator), store.ErrLastAdmin)
	wantErr(t, "removing the last admin", s.RemoveMember(ctx, o.ID, alice.ID), store.ErrLastAdmin)
	wantErr(t, "ErrLastAdmin is a conflict", store.ErrLastAdmin, store.ErrConflict)
	if err := s.SetMember(ctx, o.ID, bob.ID, store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, o.ID, alice.ID, store.RoleCollaborator); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	if err := s.RemoveMember(ctx, o.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Role{"alice": store.RoleCollaborator, "bob": store.RoleAdmin}
	if got := members(); len(got) != 2 || got["alice"] != want["alice"] || got["bob"] != want["bob"] {
		t.Fatalf("members = %v, want %v", got, want)
	}
	wantErr(t, "RemoveMember(non-member)", s.RemoveMember(ctx, o.ID, carol.ID), store.ErrNotFound)
	wantErr(t, "SetMember(bad role)", s.SetMember(ctx, o.ID, carol.ID, "owner"), store.ErrInvalid)
	wantErr(t, "SetMember(user as organisation)", s.SetMember(ctx, alice.ID, carol.ID, store.RoleAdmin), store.ErrNotFound)
	wantErr(t, "SetMember(organisation as user)", s.SetMember(ctx, o.ID, o.ID, store.RoleAdmin), store.ErrNotFound)
	_, err = s.Members(ctx, alice.ID)
	wantErr(t, "Members(user)", err, store.ErrNotFound)

	org(t, s, "Adatum", bob.ID)
	ms, err := s.Memberships(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Organization.Name+":"+string(m.Role))
	}
	if !slices.Equal(got, []string{"Adatum:admin", "Fabrikam:admin"}) {
		t.Fatalf("Memberships(bob) = %q", got)
	}
	if ms, err := s.Memberships(ctx, carol.ID); err != nil || len(ms) != 0 {
		t.Fatalf("Memberships(carol) = %v, %v; want none", ms, err)
	}
}
