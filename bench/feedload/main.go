// Command feedload is a bounded loopback load generator for the feed: it
// starts a feed in process on a database and storage of your choice, pushes
// -pushes generated packages and then downloads -downloads of them with
// -concurrency clients, and prints operations per second and p50/p99
// latencies, after a warm-up of unmeasured pushes. The same run measures a reference: a minimal HTTP handler that
// spools each upload to a synced file (what any durable push must do at
// least) and http.FileServer for downloads, and prints the feed's figures as
// ratios to it.
//
//	go run ./bench/feedload                                  # SQLite + directory
//	go run ./bench/feedload -database postgres://… -storage s3://…
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/blob/blobopen"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/store"
)

func main() {
	database := flag.String("database", "", "database URL (default: SQLite in a temporary directory)")
	storage := flag.String("storage", "", "storage URL (default: a temporary directory)")
	pushes := flag.Int("pushes", 200, "packages to push")
	downloads := flag.Int("downloads", 2000, "downloads to make")
	concurrency := flag.Int("concurrency", 8, "concurrent clients")
	sizeKiB := flag.Int("size-kib", 64, "size of each package's payload, KiB")
	label := flag.String("label", "", "name of the backend in the output")
	flag.Parse()
	ctx := context.Background()

	tmp, err := os.MkdirTemp("", "signet-feedload-")
	check(err)
	defer os.RemoveAll(tmp)
	if *database == "" {
		*database = "sqlite:" + filepath.Join(tmp, "signet.db")
	}
	if *storage == "" {
		*storage = filepath.Join(tmp, "blobs")
	}
	if *label == "" {
		*label = *database
	}
	st, err := store.Open(ctx, *database)
	check(err)
	defer st.Close()
	blobs, err := blobopen.Open(ctx, *storage)
	check(err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	base := "http://" + ln.Addr().String()
	srv, err := feed.New(feed.Config{BaseURL: base, TempDir: tmp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st, blobs)
	check(err)
	go http.Serve(ln, srv.Handler())
	key := apiKey(ctx, st)

	// Packages with unique ids per run, so a shared database can be reused.
	run := fmt.Sprintf("%x", rand.Uint32())
	pkgs := make([][]byte, *pushes)
	payload := make([]byte, *sizeKiB<<10)
	for i := range pkgs {
		for j := range payload {
			payload[j] = byte(rand.Uint32()) // incompressible, as real binaries mostly are
		}
		var buf bytes.Buffer
		check(nupkgtest.Write(&buf, nupkgtest.Spec{ID: fmt.Sprintf("Load.R%s.P%d", run, i), Version: "1.0.0",
			Files: map[string][]byte{"lib/net8.0/payload.bin": payload}}))
		pkgs[i] = buf.Bytes()
	}

	ref := startReference(tmp, pkgs[0])
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}

	pushURL := base + "/api/v2/package"
	// Warm up: the first requests open the database pool's connections
	// (a PostgreSQL connection costs a process and a SCRAM exchange), which
	// is not what a running feed pays per push. These are not measured.
	warm := make([][]byte, 2**concurrency)
	for i := range warm {
		var buf bytes.Buffer
		check(nupkgtest.Write(&buf, nupkgtest.Spec{ID: fmt.Sprintf("Load.R%s.Warm%d", run, i), Version: "1.0.0"}))
		warm[i] = buf.Bytes()
	}
	measure(len(warm), *concurrency, func(i int) error { return push(client, pushURL, key, warm[i], 201) })
	feedPush := measure(*pushes, *concurrency, func(i int) error { return push(client, pushURL, key, pkgs[i], 201) })
	refPush := measure(*pushes, *concurrency, func(i int) error { return push(client, ref+"/upload", "", pkgs[i], 201) })
	feedGet := measure(*downloads, *concurrency, func(i int) error {
		id := fmt.Sprintf("load.r%s.p%d", run, i%*pushes)
		return get(client, base+"/v3-flatcontainer/"+id+"/1.0.0/"+id+".1.0.0.nupkg")
	})
	refGet := measure(*downloads, *concurrency, func(int) error { return get(client, ref+"/files/pkg.nupkg") })

	fmt.Printf("feed load, %s: %d pushes and %d downloads of %d KiB packages, %d clients, loopback\n",
		*label, *pushes, *downloads, len(pkgs[0])>>10, *concurrency)
	fmt.Printf("%-10s %10s %10s %10s   %s\n", "operation", "per second", "p50", "p99", "vs reference (rate; p50)")
	row := func(name string, r, ref result) {
		fmt.Printf("%-10s %10.1f %10s %10s   %.2fx; %.2fx  (reference %.1f/s, p50 %s)\n", name, r.rate, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), r.rate/ref.rate, float64(r.p50)/float64(ref.p50), ref.rate, ref.p50.Round(10*time.Microsecond))
	}
	row("push", feedPush, refPush)
	row("download", feedGet, refGet)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// apiKey makes a user with a push key directly in the store.
func apiKey(ctx context.Context, st *store.Store) string {
	name := fmt.Sprintf("load%x", rand.Uint32())
	u, err := st.CreateUser(ctx, store.NewUser{Name: name, Email: name + "@example.com"})
	check(err)
	key, hash, err := account.NewAPIKey()
	check(err)
	_, err = st.CreateAPIKey(ctx, store.NewAPIKey{UserID: u.ID, OwnerID: u.ID, Name: "load", Hash: hash,
		Scopes: []string{account.ScopePush}, Expires: time.Now().Add(time.Hour)})
	check(err)
	return key
}

// startReference serves the reference handlers: POST-like uploads spooled
// to a synced temporary file and renamed, and a static file.
func startReference(tmp string, pkg []byte) string {
	dir := filepath.Join(tmp, "ref")
	check(os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	check(os.WriteFile(filepath.Join(dir, "files", "pkg.nupkg"), pkg, 0o644))
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /upload", func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		part, err := mr.NextPart()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, err := os.CreateTemp(dir, "up-*")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, err = io.Copy(f, part)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		if err == nil {
			err = os.Rename(f.Name(), filepath.Join(dir, fmt.Sprintf("pkg-%d", n.Add(1))))
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(201)
	})
	mux.Handle("GET /files/", http.StripPrefix("/files/", http.FileServer(http.Dir(filepath.Join(dir, "files")))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, mux)
	return "http://" + ln.Addr().String()
}

type result struct {
	rate     float64
	p50, p99 time.Duration
}

// measure runs n operations on c workers and returns their rate and
// latency percentiles; any failed operation stops the program.
func measure(n, c int, op func(i int) error) result {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				check(op(i))
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return result{rate: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[min(n-1, n*99/100)]}
}

func push(c *http.Client, url, key string, pkg []byte, want int) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("package", "package.nupkg")
	w.Write(pkg)
	mw.Close()
	req, err := http.NewRequest("PUT", url, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("X-NuGet-ApiKey", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("push %s: %s", url, resp.Status)
	}
	return nil
}

func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return err
}
