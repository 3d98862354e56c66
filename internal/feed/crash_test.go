package feed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/blob/blobopen"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/store"
)

// The test binary doubles as a feed server process, so that a test can
// kill one with SIGKILL: with serverEnv set, TestMain runs serverMain on
// the database and storage URLs in serverDBEnv and serverStorageEnv.
const (
	serverEnv        = "SIGNET_FEED_TEST_SERVER"
	serverDBEnv      = "SIGNET_FEED_TEST_DATABASE"
	serverStorageEnv = "SIGNET_FEED_TEST_STORAGE"
)

// serverMain serves a feed on a loopback port and prints its URL.
func serverMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, os.Getenv(serverDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	bs, err := blobopen.Open(ctx, os.Getenv(serverStorageEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	srv, err := New(Config{BaseURL: base, AllowSignup: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, st, bs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("LISTENING %s\n", base)
	hs := &http.Server{Handler: srv.Handler()}
	go func() {
		<-ctx.Done()
		hs.Shutdown(context.Background())
	}()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startServer runs the test binary as a feed server process.
func startServer(t *testing.T, db, storage string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"=1", serverDBEnv+"="+db, serverStorageEnv+"="+storage)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTENING ")
	if err != nil || !ok {
		t.Fatalf("server did not start: %q %v", line, err)
	}
	return cmd, base
}

// TestCrashDuringPushes kills a feed process with SIGKILL during a burst of
// pushes, restarts it, and checks that every package is either whole
// (listed, downloadable, its bytes and manifest as pushed) or absent, and
// that every push answered 201 survived. Blobs of interrupted pushes are
// named by no row, and the sweeper removes them.
func TestCrashDuringPushes(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testCrash(t, b) })
	}
}

func testCrash(t *testing.T, b backend) {
	db, storage := b.urls(t)
	cmd, base := startServer(t, db, storage)
	h := &harness{t: t, base: base}
	alice := h.signup("alice")

	const total, workers, killAfter = 120, 6, 20
	pkgs := make([][]byte, total)
	for i := range pkgs {
		pkgs[i] = nupkgtest.Bytes(t, nupkgtest.Spec{ID: fmt.Sprintf("Crash.P%d", i%10), Version: fmt.Sprintf("1.0.%d", i),
			Files: map[string][]byte{"lib/net8.0/data.bin": bytes.Repeat([]byte{byte(i)}, 64<<10)}})
	}
	alice.resource("PackagePublish/2.0.0")
	var created atomic.Int32
	ok := make([]atomic.Bool, total)
	next := atomic.Int32{}
	var killOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				code, err := rawPush(alice, pkgs[i])
				if err != nil {
					return // the server is gone
				}
				if code == 201 {
					ok[i].Store(true)
					if created.Add(1) >= killAfter {
						killOnce.Do(func() { cmd.Process.Signal(syscall.SIGKILL) })
					}
				}
			}
		})
	}
	wg.Wait()
	cmd.Wait()
	if n := created.Load(); n < killAfter || n == total {
		t.Fatalf("%d of %d pushes were created before the kill; the test needs a kill mid-burst", n, total)
	}

	_, base = startServer(t, db, storage)
	h2 := &harness{t: t, base: base}
	c := h2.anon()
	present := 0
	for i, pkg := range pkgs {
		id, v := fmt.Sprintf("crash.p%d", i%10), fmt.Sprintf("1.0.%d", i)
		code, got := c.status("/v3-flatcontainer/" + id + "/" + v + "/" + id + "." + v + ".nupkg")
		switch {
		case code == 200:
			if !bytes.Equal(got, pkg) {
				t.Errorf("%s %s: downloaded bytes differ from those pushed", id, v)
			}
			if code, _ := c.status("/v3-flatcontainer/" + id + "/" + v + "/" + id + ".nuspec"); code != 200 {
				t.Errorf("%s %s: package present, nuspec %d", id, v, code)
			}
			var leaf regLeaf
			c.getJSON("/v3/"+hiveSemVer2+"/"+id+"/"+v+".json", &leaf)
			if !leaf.Listed {
				t.Errorf("%s %s: present but not listed", id, v)
			}
			present++
		case code == 404:
			if ok[i].Load() {
				t.Errorf("%s %s: push answered 201 but the package is gone", id, v)
			}
			if code, _ := c.status("/v3/" + hiveSemVer2 + "/" + id + "/" + v + ".json"); code != 404 {
				t.Errorf("%s %s: no package but a registration leaf (%d)", id, v, code)
			}
		default:
			t.Errorf("%s %s: download = %d", id, v, code)
		}
	}
	t.Logf("%d pushes created before the kill, %d packages present after restart", created.Load(), present)

	// Sweep twice (in process, on the same storage): afterwards every blob
	// is named by a row.
	st, bs := openURLs(t, db, storage)
	hs := newFeedOn(t, st, bs)
	n1, err1 := hs.srv.Sweep(ctx)
	n2, err2 := hs.srv.Sweep(ctx)
	if err1 != nil || err2 != nil || n1 != 0 {
		t.Fatalf("sweeps: %d %v, %d %v", n1, err1, n2, err2)
	}
	for key, err := range bs.List(ctx, blobRoot) {
		if err != nil {
			t.Fatal(err)
		}
		id, v, hash, _ := parseBlobKey(key)
		row, err := st.Version(ctx, id, v)
		if err != nil || !strings.HasPrefix(fmt.Sprintf("%x", row.SHA512), hash) {
			t.Errorf("blob %s left after sweeping (row: %v)", key, err)
		}
	}
	t.Logf("sweeper deleted %d unnamed blobs", n2)
}

// rawPush pushes without failing the test on a transport error (the server
// may be killed at any moment).
func rawPush(c *client, pkg []byte) (int, error) {
	req, body, err := pushRequest(c.resource("PackagePublish/2.0.0"), c.key, pkg)
	if err != nil {
		return 0, err
	}
	req.Body = body
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
