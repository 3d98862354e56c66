package storetest

import (
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: sessions are found by hash until they expire, and end one by
// one, per user, or when expired.
func testSessions(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	now := time.Now().UTC()
	later := now.Add(time.Hour)
	mk := func(u store.User, token string, twoFactor bool, expires time.Time) store.Session {
		t.Helper()
		se, err := s.CreateSession(ctx, store.Session{TokenHash: keyHash(token), UserID: u.ID, TwoFactor: twoFactor, Expires: expires})
		if err != nil {
			t.Fatalf("CreateSession(%q): %v", token, err)
		}
		return se
	}
	a1 := mk(alice, "a1", true, later)
	mk(alice, "a2", false, later)
	mk(alice, "old", false, now.Add(-time.Minute))
	mk(bob, "b1", false, later)

	got, err := s.SessionByHash(ctx, keyHash("a1"), now)
	if err != nil || got.ID != a1.ID || got.UserID != alice.ID || !got.TwoFactor || !got.Expires.Equal(a1.Expires) {
		t.Fatalf("SessionByHash(a1) = %+v, %v; want %+v", got, err, a1)
	}
	_, err = s.SessionByHash(ctx, keyHash("old"), now)
	wantErr(t, "SessionByHash(expired)", err, store.ErrNotFound)
	_, err = s.SessionByHash(ctx, keyHash("a1"), later.Add(time.Second))
	wantErr(t, "SessionByHash(after expiry)", err, store.ErrNotFound)

	_, err = s.CreateSession(ctx, store.Session{TokenHash: keyHash("a1"), UserID: bob.ID, Expires: later})
	wantErr(t, "CreateSession(duplicate)", err, store.ErrConflict)
	_, err = s.CreateSession(ctx, store.Session{TokenHash: []byte("short"), UserID: bob.ID, Expires: later})
	wantErr(t, "CreateSession(short hash)", err, store.ErrInvalid)
	_, err = s.CreateSession(ctx, store.Session{TokenHash: keyHash("x"), UserID: bob.ID})
	wantErr(t, "CreateSession(no expiry)", err, store.ErrInvalid)
	_, err = s.CreateSession(ctx, store.Session{TokenHash: keyHash("y"), UserID: 999999, Expires: later})
	wantErr(t, "CreateSession(missing user)", err, store.ErrNotFound)

	if n, err := s.DeleteUserSessions(ctx, alice.ID, keyHash("a1")); err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions(keep a1) = %d, %v; want 2", n, err)
	}
	if _, err := s.SessionByHash(ctx, keyHash("a1"), now); err != nil {
		t.Fatalf("kept session: %v", err)
	}
	_, err = s.SessionByHash(ctx, keyHash("a2"), now)
	wantErr(t, "SessionByHash(ended a2)", err, store.ErrNotFound)

	if err := s.DeleteSession(ctx, keyHash("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, keyHash("a1")); err != nil {
		t.Fatalf("DeleteSession twice: %v", err)
	}
	_, err = s.SessionByHash(ctx, keyHash("a1"), now)
	wantErr(t, "SessionByHash(logged out)", err, store.ErrNotFound)

	mk(bob, "b-old", false, now.Add(-time.Second))
	if n, err := s.DeleteExpiredSessions(ctx, now); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.SessionByHash(ctx, keyHash("b1"), now); err != nil {
		t.Fatalf("live session removed: %v", err)
	}
	if n, err := s.DeleteUserSessions(ctx, bob.ID, nil); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions(all) = %d, %v; want 1", n, err)
	}
}
