package storetest

import (
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: download counts add up per version, ignoring unknown versions
// and case.
func testDownloads(t *testing.T, s *store.Store) {
	alice := user(t, s, "alice")
	push(t, s, alice.ID, version("Contoso.Lib", "1.0.0"))
	push(t, s, alice.ID, version("Contoso.Lib", "2.0.0-beta"))
	push(t, s, alice.ID, version("Other", "1.0.0"))

	add := func(m map[store.VersionRef]int64) {
		t.Helper()
		if err := s.AddDownloads(ctx, m); err != nil {
			t.Fatalf("AddDownloads: %v", err)
		}
	}
	add(map[store.VersionRef]int64{
		{PackageID: "Contoso.Lib", Version: "1.0.0"}:      3,
		{PackageID: "contoso.lib", Version: "2.0.0-BETA"}: 1,
		{PackageID: "Missing", Version: "1.0.0"}:          7,
		{PackageID: "Other", Version: "1.0.0"}:            0,
	})
	add(map[store.VersionRef]int64{{PackageID: "CONTOSO.LIB", Version: "1.0.0"}: 2})
	add(nil)

	got, total, err := s.Downloads(ctx, "contoso.lib")
	if err != nil {
		t.Fatal(err)
	}
	if total != 6 || len(got) != 2 || got["1.0.0"] != 5 || got["2.0.0-beta"] != 1 {
		t.Fatalf("Downloads = %v, %d; want 1.0.0:5 2.0.0-beta:1, total 6", got, total)
	}
	got, total, err = s.Downloads(ctx, "Other")
	if err != nil || total != 0 || len(got) != 0 {
		t.Fatalf("Downloads(Other) = %v, %d, %v; want none", got, total, err)
	}
	_, _, err = s.Downloads(ctx, "Missing")
	wantErr(t, "Downloads(unregistered)", err, store.ErrNotFound)
}
