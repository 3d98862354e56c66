package nupkg

import (
	"crypto"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// defaultBenchSize keeps `go test -bench` quick; set SIGNET_BENCH_SIZE (bytes,
// or with a KiB, MiB or GiB suffix) to measure real package sizes.
const defaultBenchSize = 64 << 20

func benchSize(b *testing.B) int64 {
	s := os.Getenv("SIGNET_BENCH_SIZE")
	if s == "" {
		return defaultBenchSize
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("SIGNET_BENCH_SIZE=%q: want a positive size", os.Getenv("SIGNET_BENCH_SIZE"))
	}
	return n * mult
}

// benchFiles writes a generated package of about benchSize bytes (one large
// stored file plus the usual small parts) and its signed form to a temporary
// directory, and returns their paths.
func benchFiles(b *testing.B) (unsigned, signed string) {
	b.Helper()
	dir := b.TempDir()
	unsigned = filepath.Join(dir, "Bench.Package.1.0.0.nupkg")
	f, err := os.Create(unsigned)
	if err != nil {
		b.Fatal(err)
	}
	err = nupkgtest.Write(f, nupkgtest.Spec{
		ID:    "Bench.Package",
		Files: map[string][]byte{"lib/net8.0/Bench.Package.dll": make([]byte, 64<<10)},
		Large: &nupkgtest.LargeFile{Name: "content/data.bin", Size: benchSize(b)},
	})
	// Sync so that writing back the generated files does not compete with
	// the timed loops.
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	signed = filepath.Join(dir, "Bench.Package.1.0.0.signed.nupkg")
	in, p := openFile(b, unsigned)
	defer in.Close()
	out, err := os.Create(signed)
	if err != nil {
		b.Fatal(err)
	}
	if err := Sign(out, p, make([]byte, 20<<10), time.Now()); err != nil {
		b.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return unsigned, signed
}

func openFile(b *testing.B, path string) (*os.File, *Package) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	p, err := Open(f, fi.Size())
	if err != nil {
		b.Fatal(err)
	}
	return f, p
}

// BenchmarkHashUnsigned measures the integrity hash of a signed package:
// the reconstruction of the unsigned bytes and one SHA-256 pass over them.
func BenchmarkHashUnsigned(b *testing.B) {
	_, signed := benchFiles(b)
	f, p := openFile(b, signed)
	defer f.Close()
	b.SetBytes(p.Size())
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := p.HashUnsigned(crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign measures writing the signed package to a file: one read of
// the package and one write.
func BenchmarkSign(b *testing.B) {
	unsigned, _ := benchFiles(b)
	f, p := openFile(b, unsigned)
	defer f.Close()
	out, err := os.Create(filepath.Join(b.TempDir(), "out.nupkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	sig := make([]byte, 20<<10)
	b.SetBytes(p.Size())
	defer reportCPU(b)()
	for b.Loop() {
		if err := resetFile(out); err != nil {
			b.Fatal(err)
		}
		if err := Sign(out, p, sig, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReferenceSHA256PlusCopy is the yardstick for the two above, on
// the same signed file in the same run: a plain SHA-256 of the file, a plain
// copy of it to another file, and both.
func BenchmarkReferenceSHA256PlusCopy(b *testing.B) {
	_, signed := benchFiles(b)
	f, p := openFile(b, signed)
	defer f.Close()
	out, err := os.Create(filepath.Join(b.TempDir(), "copy.nupkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	buf := make([]byte, copyBufferSize)
	hash := func() {
		h := sha256.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, p.Size()), buf); err != nil {
			b.Fatal(err)
		}
		h.Sum(nil)
	}
	copyFile := func() {
		if err := resetFile(out); err != nil {
			b.Fatal(err)
		}
		// writerOnly hides ReadFrom so the copy uses buf, like Sign does.
		if _, err := io.CopyBuffer(writerOnly{out}, io.NewSectionReader(f, 0, p.Size()), buf); err != nil {
			b.Fatal(err)
		}
	}
	for _, bm := range []struct {
		name string
		run  func()
	}{
		{"sha256", hash},
		{"copy", copyFile},
		{"both", func() { hash(); copyFile() }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(p.Size())
			defer reportCPU(b)()
			for b.Loop() {
				bm.run()
			}
		})
	}
}

// reportCPU starts measuring CPU time; the function it returns reports the
// CPU time per iteration as the "cpu-ns/op" metric. Wall time on a shared
// machine varies with other load; CPU time does much less.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if used := cpuTime() - start; used > 0 && b.N > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

func resetFile(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}
