// Command restoregen prepares the restore benchmark (bench/restore): it
// generates a graph of -n packages, pushes them to a feed with an API key,
// and writes a project that references the graph's roots.
//
// The graph is layered like real dependency trees: package i depends on up
// to three packages of higher index, with ranges, so that a restore visits
// every package once through several paths.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/nupkgtest"
)

func main() {
	source := flag.String("source", "", "the feed's service index URL")
	key := flag.String("api-key", "", "API key to push with")
	n := flag.Int("n", 300, "packages in the graph")
	out := flag.String("project", "bench-restore/App.csproj", "project file to write")
	kib := flag.Int("size-kib", 32, "payload of each package, KiB")
	flag.Parse()
	if *source == "" || *key == "" {
		log.Fatal("restoregen: -source and -api-key are required")
	}
	c, err := client.New(*source, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	run := fmt.Sprintf("%x", rand.Uint32())
	name := func(i int) string { return fmt.Sprintf("Bench.R%s.P%03d", run, i) }
	specs := make([]nupkgtest.Spec, *n)
	payload := make([]byte, *kib<<10)
	for i := range specs {
		var deps []nupkgtest.Dependency
		for k := 1; k <= 3 && i+k*k <= *n-1; k++ {
			deps = append(deps, nupkgtest.Dependency{ID: name(i + k*k), Version: "[1.0.0, 2.0.0)"})
		}
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
		specs[i] = nupkgtest.Spec{ID: name(i), Version: "1.0.0",
			Dependencies: map[string][]nupkgtest.Dependency{"net8.0": deps},
			Files:        map[string][]byte{"lib/net8.0/" + name(i) + ".dll": bytes.Clone(payload)}}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(specs))
	for _, s := range specs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var buf bytes.Buffer
			if err := nupkgtest.Write(&buf, s); err != nil {
				errs <- err
				return
			}
			if _, err := c.Push(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), *key, client.PushOptions{}); err != nil {
				errs <- fmt.Errorf("push %s: %w", s.ID, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		log.Fatal(err)
	}
	// The roots: packages nothing depends on reach the whole graph.
	var refs []string
	for i := 0; i < *n && i < 3; i++ {
		refs = append(refs, fmt.Sprintf(`    <PackageReference Include="%s" Version="1.0.0" />`, name(i)))
	}
	proj := fmt.Sprintf("<Project Sdk=\"Microsoft.NET.Sdk\">\n  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>\n  <ItemGroup>\n%s\n  </ItemGroup>\n</Project>\n", strings.Join(refs, "\n"))
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, []byte(proj), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("pushed %d packages; project %s\n", *n, *out)
}
