// Package storetest is the contract test of package store. Every database
// the store supports runs it from its tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) *store.Store {
//			s, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "signet.db"))
//			…
//			return s
//		})
//	}
package storetest

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Run runs the contract tests. open is called once per subtest and must
// return a store on a fresh, empty, migrated database that t cleans up.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Users", testUsers},
		{"UserUpdates", testUserUpdates},
		{"Organizations", testOrganizations},
		{"FirstPushClaims", testFirstPushClaims},
		{"VersionRoundTrip", testVersionRoundTrip},
		{"VersionInvalid", testVersionInvalid},
		{"VersionConflict", testVersionConflict},
		{"VersionOrder", testVersionOrder},
		{"ListedAndSignature", testListedAndSignature},
		{"Owners", testOwners},
		{"RequiredSigner", testRequiredSigner},
		{"Reservations", testReservations},
		{"ReservationOwners", testReservationOwners},
		{"Search", testSearch},
		{"SearchPaging", testSearchPaging},
		{"Browse", testBrowse},
		{"APIKeys", testAPIKeys},
		{"Certificates", testCertificates},
		{"Revocation", testRevocation},
		{"Sessions", testSessions},
		{"TwoFactor", testTwoFactor},
		{"TwoFactorReplay", testTwoFactorReplay},
		{"Identities", testIdentities},
		{"CertificateWithIdentity", testCertificateWithIdentity},
		{"Downloads", testDownloads},
		{"Revalidation", testRevalidation},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentCreateVersion", testConcurrentCreateVersion},
		{"ConcurrentClaim", testConcurrentClaim},
		{"ConcurrentLastOwner", testConcurrentLastOwner},
		{"Cancelled", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// published is a fixed push time, with microseconds, so that round trips
// compare exactly.
var published = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func user(t *testing.T, s *store.Store, name string) store.User {
	t.Helper()
	u, err := s.CreateUser(ctx, store.NewUser{Name: name, Email: name + "@example.com", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func org(t *testing.T, s *store.Store, name string, admin int64) store.Account {
	t.Helper()
	o, err := s.CreateOrganization(ctx, name, name+"@example.com", admin)
	if err != nil {
		t.Fatalf("CreateOrganization(%q): %v", name, err)
	}
	return o
}

// version returns a listed, unsigned version with content derived from id
// and v.
func version(id, v string) store.Version {
	sum := sha512.Sum512([]byte(id + "@" + v))
	return store.Version{
		PackageID:       id,
		Version:         v,
		OriginalVersion: v,
		Listed:          true,
		Published:       published,
		SHA512:          sum[:],
		Size:            int64(len(id) * 100),
		Title:           id,
		Description:     "The " + id + " package.",
		Authors:         "Signet",
	}
}

func push(t *testing.T, s *store.Store, owner int64, v store.Version) store.Version {
	t.Helper()
	got, err := s.CreateVersion(ctx, owner, v)
	if err != nil {
		t.Fatalf("CreateVersion(%d, %s %s): %v", owner, v.PackageID, v.Version, err)
	}
	return got
}

// wantErr fails unless err is target (by errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}

func certificate(n int) store.Certificate {
	der := []byte(fmt.Sprintf("0\x82 not really DER, certificate %d", n))
	sum := sha256.Sum256(der)
	return store.Certificate{
		SHA256:    sum[:],
		DER:       der,
		Subject:   fmt.Sprintf("CN=Signer %d", n),
		Issuer:    "CN=Test CA",
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:  time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func names(as []store.Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

func versionStrings(vs []store.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
