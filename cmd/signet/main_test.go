package main

import (
	"os"
	"testing"
)

// TestMain isolates the tests from the machine's user configuration: no
// extra roots from the user's roots directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signet-test-roots-")
	if err != nil {
		panic(err)
	}
	os.Setenv("SIGNET_TRUST_DIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	if pkiVal != nil {
		os.RemoveAll(pkiVal.dir)
	}
	os.Exit(code)
}
