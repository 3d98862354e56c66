package main

import (
	"os"
	"testing"
)

// TestMain isolates the tests from the machine's user configuration and
// caches: no extra roots from the user's roots directory, no revocation
// responses from the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signet-test-home-")
	if err != nil {
		panic(err)
	}
	os.Setenv("SIGNET_TRUST_DIR", dir)
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	if pkiVal != nil {
		os.RemoveAll(pkiVal.dir)
	}
	os.Exit(code)
}
