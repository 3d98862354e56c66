package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: owners are added and removed; a package keeps at least one.
func testOwners(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", bob.ID)
	push(t, s, alice.ID, version("Shared", "1.0.0"))
	push(t, s, alice.ID, version("Solo", "1.0.0"))

	if err := s.AddOwner(ctx, "shared", team.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOwner(ctx, "SHARED", bob.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AddOwner(existing owner)", s.AddOwner(ctx, "Shared", bob.ID), store.ErrConflict)
	wantErr(t, "AddOwner(missing package)", s.AddOwner(ctx, "Nope", bob.ID), store.ErrNotFound)
	wantErr(t, "AddOwner(missing account)", s.AddOwner(ctx, "Shared", 999999), store.ErrNotFound)
	p, err := s.Package(ctx, "Shared")
	if err != nil || !slices.Equal(names(p.Owners), []string{"alice", "bob", "Team"}) {
		t.Fatalf("owners = %q, %v", names(p.Owners), err)
	}
	// The organisation, as an owner, may push.
	push(t, s, team.ID, version("Shared", "2.0.0"))

	owned, err := s.PackagesOwnedBy(ctx, bob.ID)
	if err != nil || len(owned) != 1 || owned[0].ID != "Shared" {
		t.Fatalf("PackagesOwnedBy(bob) = %+v, %v", owned, err)
	}
	owned, err = s.PackagesOwnedBy(ctx, alice.ID)
	if err != nil || len(owned) != 2 || owned[0].ID != "Shared" || owned[1].ID != "Solo" {
		t.Fatalf("PackagesOwnedBy(alice) = %+v, %v", owned, err)
	}

	if err := s.RemoveOwner(ctx, "Shared", alice.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateVersion(ctx, alice.ID, version("Shared", "3.0.0"))
	wantErr(t, "push by a removed owner", err, store.ErrNotOwner)
	wantErr(t, "RemoveOwner(non-owner)", s.RemoveOwner(ctx, "Shared", alice.ID), store.ErrNotFound)
	wantErr(t, "RemoveOwner(missing package)", s.RemoveOwner(ctx, "Nope", alice.ID), store.ErrNotFound)
	if err := s.RemoveOwner(ctx, "Shared", team.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveOwner(last owner)", s.RemoveOwner(ctx, "Shared", bob.ID), store.ErrLastOwner)
	wantErr(t, "ErrLastOwner is a conflict", store.ErrLastOwner, store.ErrConflict)
	p, _ = s.Package(ctx, "Shared")
	if !slices.Equal(names(p.Owners), []string{"bob"}) {
		t.Fatalf("owners after removals = %q", names(p.Owners))
	}
}

// Contract: the required signer is an owner, and stops being the required
// signer when it stops being an owner.
func testRequiredSigner(t *testing.T, s *store.Store) {
	alice, bob, carol := user(t, s, "alice"), user(t, s, "bob"), user(t, s, "carol")
	push(t, s, alice.ID, version("Signed", "1.0.0"))
	if err := s.AddOwner(ctx, "Signed", bob.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetRequiredSigner(non-owner)", s.SetRequiredSigner(ctx, "Signed", carol.ID), store.ErrNotOwner)
	wantErr(t, "SetRequiredSigner(missing package)", s.SetRequiredSigner(ctx, "Nope", bob.ID), store.ErrNotFound)
	if err := s.SetRequiredSigner(ctx, "signed", bob.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Package(ctx, "Signed"); p.RequiredSigner != bob.ID {
		t.Fatalf("RequiredSigner = %d, want %d", p.RequiredSigner, bob.ID)
	}
	// Removing another owner keeps it.
	if err := s.AddOwner(ctx, "Signed", carol.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOwner(ctx, "Signed", carol.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Package(ctx, "Signed"); p.RequiredSigner != bob.ID {
		t.Fatalf("RequiredSigner after removing another owner = %d", p.RequiredSigner)
	}
	if err := s.RemoveOwner(ctx, "Signed", bob.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Package(ctx, "Signed"); p.RequiredSigner != 0 {
		t.Fatalf("RequiredSigner after removing that owner = %d, want 0", p.RequiredSigner)
	}
	if err := s.SetRequiredSigner(ctx, "Signed", alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRequiredSigner(ctx, "Signed", 0); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Package(ctx, "Signed"); p.RequiredSigner != 0 {
		t.Fatalf("RequiredSigner after clearing = %d", p.RequiredSigner)
	}
}

// Contract: a new id under a reservation can be registered only by one of
// the reservation's owners; existing registrations are not affected.
func testReservations(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", alice.ID)
	push(t, s, bob.ID, version("Contoso.Legacy", "1.0.0"))

	r, err := s.CreateReservation(ctx, "Contoso.", true, []int64{team.ID, alice.ID})
	if err != nil {
		t.Fatal(err)
	}
	if r.Pattern != "Contoso." || !r.Prefix || !slices.Equal(names(r.Owners), []string{"alice", "Team"}) {
		t.Fatalf("CreateReservation = %+v", r)
	}
	if _, err := s.CreateReservation(ctx, "Exact_Id", false, []int64{alice.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateReservation(ctx, "contoso.", false, []int64{bob.ID})
	wantErr(t, "CreateReservation(duplicate)", err, store.ErrConflict)
	_, err = s.CreateReservation(ctx, "", true, []int64{bob.ID})
	wantErr(t, "CreateReservation(empty)", err, store.ErrInvalid)
	_, err = s.CreateReservation(ctx, "Contoso.*", true, []int64{bob.ID})
	wantErr(t, "CreateReservation(with *)", err, store.ErrInvalid)
	_, err = s.CreateReservation(ctx, "NoOwners", true, nil)
	wantErr(t, "CreateReservation(no owners)", err, store.ErrInvalid)
	_, err = s.CreateReservation(ctx, "Ghost", true, []int64{999999})
	wantErr(t, "CreateReservation(missing owner)", err, store.ErrNotFound)
	if rs, _ := s.Reservations(ctx); len(rs) != 2 {
		t.Fatalf("failed CreateReservations left rows: %+v", rs)
	}

	tests := []struct {
		id    string
		owner int64
		err   error
	}{
		{"contoso.core", bob.ID, store.ErrReserved},
		{"Contoso.Core", team.ID, nil},
		{"Contoso.Web", alice.ID, nil},
		{"Contoso", bob.ID, nil}, // the prefix includes the dot
		{"Exact_Id", bob.ID, store.ErrReserved},
		{"exact_id.more", bob.ID, nil},  // an exact reservation is no prefix
		{"ExactXId", bob.ID, nil},       // '_' is no wildcard
		{"Contoso.Legacy", bob.ID, nil}, // registered before the reservation
	}
	for _, tt := range tests {
		_, err := s.CreateVersion(ctx, tt.owner, version(tt.id, "2.0.0"))
		if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("push %q by %d: error = %v, want %v", tt.id, tt.owner, err, tt.err)
		}
	}
	wantErr(t, "ErrReserved is a conflict", store.ErrReserved, store.ErrConflict)
	if _, err := s.Package(ctx, "Contoso.Core"); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Package(ctx, "Contoso.Core"); err != nil || !slices.Equal(names(p.Owners), []string{"Team"}) {
		t.Fatalf("reserved id registered to %q, %v; want Team", names(p.Owners), err)
	}

	match, err := s.MatchingReservations(ctx, "CONTOSO.X")
	if err != nil || len(match) != 1 || match[0].Pattern != "Contoso." {
		t.Fatalf("MatchingReservations = %+v, %v", match, err)
	}
	if match, err := s.MatchingReservations(ctx, "Other"); err != nil || len(match) != 0 {
		t.Fatalf("MatchingReservations(Other) = %+v, %v", match, err)
	}
	all, err := s.Reservations(ctx)
	if err != nil || len(all) != 2 || all[0].Pattern != "Contoso." || all[1].Pattern != "Exact_Id" || all[1].Prefix {
		t.Fatalf("Reservations = %+v, %v", all, err)
	}
	if err := s.DeleteReservation(ctx, "CONTOSO."); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteReservation(missing)", s.DeleteReservation(ctx, "Contoso."), store.ErrNotFound)
	push(t, s, bob.ID, version("Contoso.Core2", "1.0.0"))
}

// Contract: reservation owners change like package owners.
func testReservationOwners(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	if _, err := s.CreateReservation(ctx, "Fabrikam.", true, []int64{alice.ID}); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateVersion(ctx, bob.ID, version("Fabrikam.A", "1.0.0"))
	wantErr(t, "push before being added", err, store.ErrReserved)
	if err := s.AddReservationOwner(ctx, "fabrikam.", bob.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AddReservationOwner(again)", s.AddReservationOwner(ctx, "Fabrikam.", bob.ID), store.ErrConflict)
	wantErr(t, "AddReservationOwner(missing)", s.AddReservationOwner(ctx, "Nope.", bob.ID), store.ErrNotFound)
	wantErr(t, "AddReservationOwner(missing account)", s.AddReservationOwner(ctx, "Fabrikam.", 999999), store.ErrNotFound)
	push(t, s, bob.ID, version("Fabrikam.A", "1.0.0"))
	if err := s.RemoveReservationOwner(ctx, "Fabrikam.", bob.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateVersion(ctx, bob.ID, version("Fabrikam.B", "1.0.0"))
	wantErr(t, "push after being removed", err, store.ErrReserved)
	wantErr(t, "RemoveReservationOwner(non-owner)", s.RemoveReservationOwner(ctx, "Fabrikam.", bob.ID), store.ErrNotFound)
	wantErr(t, "RemoveReservationOwner(last)", s.RemoveReservationOwner(ctx, "Fabrikam.", alice.ID), store.ErrLastOwner)
}
