package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

// racers is how many goroutines race for one outcome.
const racers = 16

// race runs fn in racers goroutines released at once and returns their
// errors.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Contract: of concurrent pushes of one version, exactly one succeeds and
// the others get ErrConflict.
func testConcurrentCreateVersion(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	push(t, s, alice.ID, version("Race", "0.1.0"))
	errs := race(func(i int) error {
		v := version("Race", "1.0.0")
		v.Title = fmt.Sprint("racer ", i)
		_, err := s.CreateVersion(ctx, alice.ID, v)
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("racers %d and %d both created the version", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no racer created the version")
	}
	v, err := s.Version(ctx, "Race", "1.0.0")
	if err != nil || v.Title != fmt.Sprint("racer ", won) {
		t.Fatalf("stored version = %q, %v; want racer %d's", v.Title, err, won)
	}
	if vs, _ := s.Versions(ctx, "Race"); len(vs) != 2 {
		t.Fatalf("%d versions stored, want 2", len(vs))
	}
}

// Contract: of concurrent first pushes of one id by different accounts,
// exactly one registers it; the others are not owners.
func testConcurrentClaim(t *testing.T, s *store.Store) {
	users := make([]store.User, racers)
	for i := range users {
		users[i] = user(t, s, fmt.Sprint("racer", i))
	}
	errs := race(func(i int) error {
		_, err := s.CreateVersion(ctx, users[i].ID, version("Claimed", fmt.Sprintf("1.0.%d", i)))
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("racers %d and %d both pushed to a new id", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrNotOwner):
			t.Fatalf("racer %d: %v, want ErrNotOwner", i, err)
		}
	}
	p, err := s.Package(ctx, "Claimed")
	if err != nil || won < 0 || len(p.Owners) != 1 || p.Owners[0].ID != users[won].ID {
		t.Fatalf("Package = %+v, %v; want owned by racer %d", p, err, won)
	}
}

// Contract: concurrent removals never leave a package without an owner.
func testConcurrentLastOwner(t *testing.T, s *store.Store) {
	users := make([]store.User, racers)
	for i := range users {
		users[i] = user(t, s, fmt.Sprint("owner", i))
	}
	push(t, s, users[0].ID, version("Owned", "1.0.0"))
	for _, u := range users[1:] {
		if err := s.AddOwner(ctx, "Owned", u.ID); err != nil {
			t.Fatal(err)
		}
	}
	errs := race(func(i int) error { return s.RemoveOwner(ctx, "Owned", users[i].ID) })
	refused := 0
	for i, err := range errs {
		if err != nil {
			if !errors.Is(err, store.ErrLastOwner) {
				t.Fatalf("racer %d: %v", i, err)
			}
			refused++
		}
	}
	p, err := s.Package(ctx, "Owned")
	if err != nil || len(p.Owners) != 1 || refused != 1 {
		t.Fatalf("owners left: %q (%d refusals), %v; want exactly one", names(p.Owners), refused, err)
	}
}

// Contract: a call with a done context fails and changes nothing.
func testCancelled(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.CreateVersion(done, alice.ID, version("Cancelled", "1.0.0"))
	wantErr(t, "CreateVersion(cancelled)", err, context.Canceled)
	_, err = s.CreateUser(done, store.NewUser{Name: "late"})
	wantErr(t, "CreateUser(cancelled)", err, context.Canceled)
	if _, err := s.Package(ctx, "Cancelled"); !isNotFound(err) {
		t.Fatalf("a cancelled push registered the id: %v", err)
	}
	if _, err := s.UserByName(ctx, "late"); !isNotFound(err) {
		t.Fatalf("a cancelled CreateUser created the user: %v", err)
	}
}
