package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

func totpSecret(n byte) []byte { return bytes.Repeat([]byte{n}, 20) }

func recoveryHashes(prefix string, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, keyHash(fmt.Sprintf("%s %d", prefix, i)))
	}
	return out
}

// Contract: an enrolment is pending until confirmed with its own secret,
// cannot restart once enabled, and disabling removes it with its codes.
func testTwoFactor(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	team := org(t, s, "Team", alice.ID)

	_, err := s.TwoFactor(ctx, alice.ID)
	wantErr(t, "TwoFactor(none)", err, store.ErrNotFound)

	first, err := s.BeginTwoFactor(ctx, alice.ID, totpSecret(1))
	if err != nil {
		t.Fatal(err)
	}
	if first.Enabled || !bytes.Equal(first.Secret, totpSecret(1)) || first.Created.IsZero() {
		t.Fatalf("BeginTwoFactor = %+v", first)
	}
	// Restarting a pending enrolment replaces its secret.
	if _, err := s.BeginTwoFactor(ctx, alice.ID, totpSecret(2)); err != nil {
		t.Fatalf("BeginTwoFactor(restart): %v", err)
	}
	got, err := s.TwoFactor(ctx, alice.ID)
	if err != nil || got.Enabled || !bytes.Equal(got.Secret, totpSecret(2)) || got.LastStep != 0 || !got.EnabledAt.IsZero() {
		t.Fatalf("TwoFactor(pending) = %+v, %v", got, err)
	}

	codes := recoveryHashes("alice", 10)
	// A code checked against the replaced secret confirms nothing.
	wantErr(t, "EnableTwoFactor(old secret)", s.EnableTwoFactor(ctx, alice.ID, totpSecret(1), 100, codes), store.ErrNotFound)
	wantErr(t, "EnableTwoFactor(not enrolled)", s.EnableTwoFactor(ctx, bob.ID, totpSecret(2), 100, codes), store.ErrNotFound)
	for _, bad := range [][][]byte{nil, {[]byte("short")}, recoveryHashes("many", 101)} {
		wantErr(t, fmt.Sprintf("EnableTwoFactor(%d bad hashes)", len(bad)), s.EnableTwoFactor(ctx, alice.ID, totpSecret(2), 100, bad), store.ErrInvalid)
	}
	if err := s.EnableTwoFactor(ctx, alice.ID, totpSecret(2), 100, codes); err != nil {
		t.Fatal(err)
	}
	got, err = s.TwoFactor(ctx, alice.ID)
	if err != nil || !got.Enabled || got.LastStep != 100 || got.EnabledAt.IsZero() || got.RecoveryCodesLeft != 10 {
		t.Fatalf("TwoFactor(enabled) = %+v, %v", got, err)
	}
	wantErr(t, "EnableTwoFactor(again)", s.EnableTwoFactor(ctx, alice.ID, totpSecret(2), 101, codes), store.ErrConflict)
	_, err = s.BeginTwoFactor(ctx, alice.ID, totpSecret(3))
	wantErr(t, "BeginTwoFactor(enabled)", err, store.ErrConflict)

	for _, bad := range [][]byte{nil, make([]byte, 15), make([]byte, 65)} {
		_, err = s.BeginTwoFactor(ctx, bob.ID, bad)
		wantErr(t, fmt.Sprintf("BeginTwoFactor(%d-byte secret)", len(bad)), err, store.ErrInvalid)
	}
	_, err = s.BeginTwoFactor(ctx, team.ID, totpSecret(1))
	wantErr(t, "BeginTwoFactor(organisation)", err, store.ErrNotFound)
	_, err = s.BeginTwoFactor(ctx, 999999, totpSecret(1))
	wantErr(t, "BeginTwoFactor(missing user)", err, store.ErrNotFound)

	// Bob's pending enrolment accepts no steps and can be cancelled.
	if _, err := s.BeginTwoFactor(ctx, bob.ID, totpSecret(4)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AcceptTOTPStep(pending)", s.AcceptTOTPStep(ctx, bob.ID, 5), store.ErrNotFound)
	if err := s.DisableTwoFactor(ctx, bob.ID); err != nil {
		t.Fatalf("DisableTwoFactor(pending): %v", err)
	}
	wantErr(t, "DisableTwoFactor(none)", s.DisableTwoFactor(ctx, bob.ID), store.ErrNotFound)

	if err := s.DisableTwoFactor(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.TwoFactor(ctx, alice.ID)
	wantErr(t, "TwoFactor(disabled)", err, store.ErrNotFound)
	if hs, err := s.RecoveryCodeHashes(ctx, alice.ID); err != nil || len(hs) != 0 {
		t.Fatalf("RecoveryCodeHashes after disabling = %d, %v", len(hs), err)
	}
	// Enrolling again starts afresh.
	if _, err := s.BeginTwoFactor(ctx, alice.ID, totpSecret(5)); err != nil {
		t.Fatalf("BeginTwoFactor after disabling: %v", err)
	}
}

// Contract: a TOTP step is accepted once and only after the last accepted
// one, and a recovery code is used once, also when requests race.
func testTwoFactorReplay(t *testing.T, s *store.Store) {
	alice, bob := user(t, s, "alice"), user(t, s, "bob")
	codes := recoveryHashes("alice", 3)
	if _, err := s.BeginTwoFactor(ctx, alice.ID, totpSecret(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTwoFactor(ctx, alice.ID, totpSecret(1), 1000, codes); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		step int64
		want error
	}{
		{1000, store.ErrConflict}, // the confirming code
		{999, store.ErrConflict},
		{1001, nil},
		{1001, store.ErrConflict},
		{1003, nil},
		{1002, store.ErrConflict}, // older than the last accepted
	}
	for _, st := range steps {
		wantErr(t, fmt.Sprintf("AcceptTOTPStep(%d)", st.step), s.AcceptTOTPStep(ctx, alice.ID, st.step), st.want)
	}
	wantErr(t, "AcceptTOTPStep(no second factor)", s.AcceptTOTPStep(ctx, bob.ID, 5000), store.ErrNotFound)

	// Concurrent acceptances of one step: exactly one wins.
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { errs[i] = s.AcceptTOTPStep(ctx, alice.ID, 2000) })
	}
	wg.Wait()
	if n := countNil(t, "AcceptTOTPStep", errs); n != 1 {
		t.Fatalf("%d of %d concurrent AcceptTOTPStep succeeded, want 1", n, racers)
	}

	got, err := s.RecoveryCodeHashes(ctx, alice.ID)
	if err != nil || len(got) != 3 {
		t.Fatalf("RecoveryCodeHashes = %d, %v", len(got), err)
	}
	for _, h := range codes {
		if !slices.ContainsFunc(got, func(g []byte) bool { return bytes.Equal(g, h) }) {
			t.Fatalf("RecoveryCodeHashes lacks %x", h)
		}
	}
	if err := s.UseRecoveryCode(ctx, alice.ID, codes[0]); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "UseRecoveryCode(used)", s.UseRecoveryCode(ctx, alice.ID, codes[0]), store.ErrConflict)
	wantErr(t, "UseRecoveryCode(unknown)", s.UseRecoveryCode(ctx, alice.ID, keyHash("nope")), store.ErrNotFound)
	wantErr(t, "UseRecoveryCode(another user's)", s.UseRecoveryCode(ctx, bob.ID, codes[1]), store.ErrNotFound)
	if got, _ := s.RecoveryCodeHashes(ctx, alice.ID); len(got) != 2 {
		t.Fatalf("RecoveryCodeHashes after one use = %d, want 2", len(got))
	}
	for i := range racers {
		wg.Go(func() { errs[i] = s.UseRecoveryCode(ctx, alice.ID, codes[1]) })
	}
	wg.Wait()
	if n := countNil(t, "UseRecoveryCode", errs); n != 1 {
		t.Fatalf("%d of %d concurrent UseRecoveryCode succeeded, want 1", n, racers)
	}
	if tf, err := s.TwoFactor(ctx, alice.ID); err != nil || tf.RecoveryCodesLeft != 1 || tf.LastStep != 2000 {
		t.Fatalf("TwoFactor after uses = %+v, %v", tf, err)
	}
}

// countNil counts the nil errors and fails on any but ErrConflict.
func countNil(t *testing.T, what string, errs []error) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
			continue
		}
		wantErr(t, what+"(concurrent)", err, store.ErrConflict)
	}
	return n
}
