package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: used certificates are recorded with their issuer; claims take
// the certificates due, oldest first, never revoked ones, and mark them so
// that a second claim does not take them again; unknown checks are counted
// until a known status resets the count.
func testRevalidation(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	registered := certificate(1)
	if _, err := s.AddCertificate(ctx, alice.ID, registered); err != nil {
		t.Fatal(err)
	}
	used, revoked := certificate(2), certificate(3)
	issuer := []byte("issuer DER")
	for _, c := range []store.Certificate{used, revoked, registered} {
		if err := s.RecordUsedCertificate(ctx, c, issuer); err != nil {
			t.Fatalf("RecordUsedCertificate: %v", err)
		}
	}
	if err := s.RecordUsedCertificate(ctx, used, []byte("another issuer")); err != nil {
		t.Fatal(err) // the first issuer stays
	}
	bad := certificate(4)
	bad.SHA256 = bytes.Repeat([]byte{1}, 32)
	wantErr(t, "RecordUsedCertificate(bad hash)", s.RecordUsedCertificate(ctx, bad, nil), store.ErrInvalid)

	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.SetRevocation(ctx, revoked.SHA256, store.Revocation{Status: store.RevocationRevoked, Checked: now.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	due, err := s.ClaimRevocationChecks(ctx, now.Add(-time.Hour), now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 {
		t.Fatalf("claimed %d certificates, want 2 (registered and used; not the revoked one)", len(due))
	}
	for _, d := range due {
		if !bytes.Equal(d.IssuerDER, issuer) {
			t.Fatalf("certificate %s: issuer %q", d.Subject, d.IssuerDER)
		}
	}
	again, err := s.ClaimRevocationChecks(ctx, now.Add(-time.Hour), now, 10)
	if err != nil || len(again) != 0 {
		t.Fatalf("second claim = %d, %v; want none", len(again), err)
	}
	later, err := s.ClaimRevocationChecks(ctx, now.Add(time.Minute), now.Add(2*time.Minute), 1)
	if err != nil || len(later) != 1 {
		t.Fatalf("claim after the period = %d, %v; want 1 (the limit)", len(later), err)
	}

	for want := 1; want <= 2; want++ {
		if n, err := s.CountUnknownCheck(ctx, used.SHA256); err != nil || n != want {
			t.Fatalf("CountUnknownCheck = %d, %v; want %d", n, err, want)
		}
	}
	if err := s.SetRevocation(ctx, used.SHA256, store.Revocation{Status: store.RevocationGood, Checked: now}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUnknownCheck(ctx, used.SHA256); err != nil || n != 1 {
		t.Fatalf("CountUnknownCheck after a good check = %d, %v; want 1", n, err)
	}
	_, err = s.CountUnknownCheck(ctx, certificate(9).SHA256)
	wantErr(t, "CountUnknownCheck(missing)", err, store.ErrNotFound)
}

// Contract: concurrent claimers (replicas) take each due certificate once.
func testConcurrentClaims(t *testing.T, s *store.Store) {
	const n, workers = 60, 6
	for i := range n {
		if err := s.RecordUsedCertificate(ctx, certificate(100+i), []byte("issuer")); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				due, err := s.ClaimRevocationChecks(ctx, now.Add(-time.Hour), now, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(due) == 0 {
					return
				}
				mu.Lock()
				for _, d := range due {
					seen[d.Subject]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d distinct certificates, want %d", len(seen), n)
	}
	for subj, c := range seen {
		if c != 1 {
			t.Fatalf("%s claimed %d times", subj, c)
		}
	}
}
