// Command genpkg writes a valid NuGet package with one large stored file,
// for benchmarks: go run ./bench/genpkg -size-mib 1024 -o Big.1.0.0.nupkg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/signet-nuget/signet/internal/atomicfile"
	"github.com/signet-nuget/signet/internal/nupkgtest"
)

func main() {
	size := flag.Int64("size-mib", 1024, "size of the large file in MiB")
	out := flag.String("o", "Bench.Large.1.0.0.nupkg", "output path")
	id := flag.String("id", "Bench.Large", "package id")
	flag.Parse()
	err := atomicfile.Write(*out, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := nupkgtest.Write(bw, nupkgtest.Spec{ID: *id, Large: &nupkgtest.LargeFile{Name: "content/large.bin", Size: *size << 20}}); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "genpkg:", err)
		os.Exit(1)
	}
}
