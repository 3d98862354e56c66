package feed

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// TestTwoReplicas runs two feed processes on one database and one blob
// store, with no other coordination: a push through either is read back
// through the other (flat container, registration, search), an account and
// key made on one work on the other, and concurrent pushes of one version
// through both create it once.
func TestTwoReplicas(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db, storage := b.urls(t)
			_, baseA := startServer(t, db, storage)
			_, baseB := startServer(t, db, storage)
			a := (&harness{t: t, base: baseA}).signup("alice")
			bh := &harness{t: t, base: baseB}
			b := bh.anon()
			b.name, b.key = "alice", a.key
			b.login(testPassword) // the session store is shared too

			for i := range 6 {
				via, other := a, b
				if i%2 == 1 {
					via, other = b, a
				}
				pkg := nupkgtest.Bytes(t, nupkgtest.Spec{ID: fmt.Sprintf("Replica.P%d", i), Version: "1.0.0",
					Dependencies: map[string][]nupkgtest.Dependency{"net8.0": {{ID: "Replica.P0", Version: "1.0.0"}}}})
				via.mustPush(pkg)
				id := fmt.Sprintf("replica.p%d", i)
				code, got := other.status("/v3-flatcontainer/" + id + "/1.0.0/" + id + ".1.0.0.nupkg")
				if code != 200 || !bytes.Equal(got, pkg) {
					t.Fatalf("push %d through one replica, download through the other = %d", i, code)
				}
				var reg regIndex
				other.getJSON("/v3/"+hiveSemVer2+"/"+id+"/index.json", &reg)
				if reg.Items[0].Items[0].CatalogEntry.PackageContent != other.h.base+"/v3-flatcontainer/"+id+"/1.0.0/"+id+".1.0.0.nupkg" {
					t.Fatalf("registration through the other replica = %+v", reg.Items[0].Items[0])
				}
			}
			var sr searchResponse
			b.getJSON("/v3/query?q=replica&take=100", &sr)
			if sr.TotalHits != 6 {
				t.Fatalf("search through B: %d hits, want 6", sr.TotalHits)
			}

			// Concurrent pushes of one version through both replicas.
			var wg sync.WaitGroup
			codes := make([]int, 8)
			for i := range codes {
				c := a
				if i%2 == 1 {
					c = b
				}
				pkg := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Replica.Race", Version: "2.0.0", Description: fmt.Sprint(i)})
				wg.Go(func() { codes[i], _ = rawPush(c, pkg) })
			}
			wg.Wait()
			created := 0
			for _, c := range codes {
				switch c {
				case 201:
					created++
				case 409:
				default:
					t.Fatalf("racing push = %d (%v)", c, codes)
				}
			}
			if created != 1 {
				t.Fatalf("racing pushes through two replicas created %d versions: %v", created, codes)
			}
		})
	}
}
