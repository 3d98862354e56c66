package trust

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestTrustBundlesKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfg, []byte(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="signetTrustBundle" value="roots/corp.pem; /etc/extra.pem" />
  </config>
</configuration>`), 0o644)
	c, err := Loader{Getenv: func(string) string { return "" }}.LoadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "roots", "corp.pem"), "/etc/extra.pem"}
	if got := c.TrustBundles(); !slices.Equal(got, want) {
		t.Fatalf("TrustBundles() = %v, want %v", got, want)
	}
}
