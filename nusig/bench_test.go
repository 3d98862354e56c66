package nusig_test

// Verification throughput on the real corpus's small packages: the figure a
// feed or a restore of many small packages sees, with every cache warm
// (packages in memory, revocation answered without the network).

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// smallPackageSize is the upper size of the "small" packages benchmarked:
// most packages restored in a real project are under 64 KiB.
const smallPackageSize = 64 << 10

// smallRealPackages returns the real fixture packages of at most
// smallPackageSize bytes, after checking that each verifies.
func smallRealPackages(b *testing.B, o nusig.VerifyOptions) [][]byte {
	b.Helper()
	var out [][]byte
	for _, path := range fixtures.Glob(b, "real/*.nupkg") {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(data) > smallPackageSize {
			continue
		}
		if r := verifyBytes(b, data, o); !r.Valid() {
			b.Fatalf("%s: %s", filepath.Base(path), summarize(r))
		}
		out = append(out, data)
	}
	if len(out) == 0 {
		b.Fatal("no small real package")
	}
	return out
}

// verifyOne opens and verifies one in-memory package, as a feed does after
// spooling an upload. It reports failures with b.Error, which (unlike
// b.Fatal) RunParallel's goroutines may call.
func verifyOne(b *testing.B, data []byte, o nusig.VerifyOptions) {
	p, err := nupkg.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Error(err)
		return
	}
	if r := nusig.Verify(b.Context(), p, o); !r.Valid() {
		b.Errorf("invalid: %s", summarize(r))
	}
}

// BenchmarkVerifySmall verifies the small real packages in turn, one per
// iteration, and reports packages per second.
func BenchmarkVerifySmall(b *testing.B) {
	o := realOptions(b)
	pkgs := smallRealPackages(b, o)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		verifyOne(b, pkgs[i%len(pkgs)], o)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkgs/s")
}

// BenchmarkVerifyParallel is BenchmarkVerifySmall on every GOMAXPROCS
// (run it with -cpu 2 for the two-core figure).
func BenchmarkVerifyParallel(b *testing.B) {
	o := realOptions(b)
	pkgs := smallRealPackages(b, o)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			verifyOne(b, pkgs[int(next.Add(1))%len(pkgs)], o)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkgs/s")
}

// BenchmarkVerifyStandard verifies the devpki-signed standard package
// (author signature and countersignature, both timestamped).
func BenchmarkVerifyStandard(b *testing.B) {
	p := testPKI(b)
	data := standardSigned(b)
	o := p.options(nusig.VerifyCommandOptions())
	b.ReportAllocs()
	for b.Loop() {
		verifyOne(b, data, o)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkgs/s")
}
