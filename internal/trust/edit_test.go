package trust

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAddRemoveRoundTrip(t *testing.T) {
	noSection := strings.Replace(sampleConfig, sampleConfig[strings.Index(sampleConfig, "  <trustedSigners>"):strings.Index(sampleConfig, "</configuration>")], "", 1)
	tests := []struct {
		name, orig, want string
	}{
		{"into the existing section", sampleConfig, strings.Replace(sampleConfig, "    </author>\n  </trustedSigners>",
			"    </author>\n    <author name=\"fabrikam\">\n      <certificate fingerprint=\""+fp('A', "SHA384")+"\" hashAlgorithm=\"SHA384\" allowUntrustedRoot=\"true\" />\n    </author>\n  </trustedSigners>", 1)},
		{"creating the section", noSection, strings.Replace(noSection, "</configuration>",
			"  <trustedSigners>\n    <author name=\"fabrikam\">\n      <certificate fingerprint=\""+fp('A', "SHA384")+"\" hashAlgorithm=\"SHA384\" allowUntrustedRoot=\"true\" />\n    </author>\n  </trustedSigners>\n</configuration>", 1)},
		{"crlf file", strings.ReplaceAll(sampleConfig, "\n", "\r\n"), strings.ReplaceAll(strings.Replace(sampleConfig, "    </author>\n  </trustedSigners>",
			"    </author>\n    <author name=\"fabrikam\">\n      <certificate fingerprint=\""+fp('A', "SHA384")+"\" hashAlgorithm=\"SHA384\" allowUntrustedRoot=\"true\" />\n    </author>\n  </trustedSigners>", 1), "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			p := tr.write("nuget.config", tt.orig)
			c := tr.mustLoad(".")
			if err := c.AddAuthor("fabrikam", strings.ToLower(fp('a', "SHA384")), "sha-384", true); err != nil {
				t.Fatal(err)
			}
			if err := c.Save(); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, p); got != tt.want {
				t.Fatalf("after AddAuthor:\n%s\nwant:\n%s", got, tt.want)
			}
			if !slices.ContainsFunc(c.TrustedSigners(), func(s Signer) bool { return s.Name == "fabrikam" }) {
				t.Error("the merged view lacks the new signer")
			}
			c = tr.mustLoad(".")
			n, err := c.Remove("FABRIKAM")
			if err != nil || n != 1 {
				t.Fatalf("Remove = %d, %v", n, err)
			}
			if err := c.Save(); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, p); got != tt.orig {
				t.Errorf("add then remove did not restore the file:\n%q\nwant\n%q", got, tt.orig)
			}
			ents, _ := os.ReadDir(tr.root)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
		})
	}
}

func TestAddRepositoryAndCertificate(t *testing.T) {
	tr := newTree(t)
	tr.write("nuget.config", signers(repoXML("feed", "https://feed.example/v3/index.json", "alice",
		certXML(fp('1', "SHA256"), "SHA256", false))+"    <!-- keep me -->\n"))
	child := tr.write("sub/nuget.config", cfg(""))
	c := tr.mustLoad("sub")
	err := c.AddRepository("nuget.org", "https://api.nuget.org/v3/index.json", []CertEntry{
		{Fingerprint: strings.ToLower(fp('b', "SHA256")), HashAlgorithm: "sha256"},
		{Fingerprint: fp('c', "SHA512"), HashAlgorithm: "SHA512", AllowUntrustedRoot: true},
	}, []string{" microsoft", "aspnet "})
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.AddCertificate("FEED", fp('d', "SHA256"), "SHA256", false)
	if err != nil || created {
		t.Fatalf("AddCertificate to an existing signer = %v, %v", created, err)
	}
	created, err = c.AddCertificate("newcomer", fp('e', "SHA256"), "SHA256", false)
	if err != nil || !created {
		t.Fatalf("AddCertificate creating an author = %v, %v", created, err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	wantChild := cfg("  <trustedSigners>\n" +
		"    <repository name=\"nuget.org\" serviceIndex=\"https://api.nuget.org/v3/index.json\">\n" +
		"      <certificate fingerprint=\"" + fp('B', "SHA256") + "\" hashAlgorithm=\"SHA256\" allowUntrustedRoot=\"false\" />\n" +
		"      <certificate fingerprint=\"" + fp('C', "SHA512") + "\" hashAlgorithm=\"SHA512\" allowUntrustedRoot=\"true\" />\n" +
		"      <owners>microsoft;aspnet</owners>\n" +
		"    </repository>\n" +
		"    <author name=\"newcomer\">\n" +
		"      <certificate fingerprint=\"" + fp('E', "SHA256") + "\" hashAlgorithm=\"SHA256\" allowUntrustedRoot=\"false\" />\n" +
		"    </author>\n" +
		"  </trustedSigners>\n")
	if got := readFile(t, child); got != wantChild {
		t.Errorf("child file:\n%s\nwant:\n%s", got, wantChild)
	}
	wantParent := signers(repoXML("feed", "https://feed.example/v3/index.json", "alice",
		certXML(fp('1', "SHA256"), "SHA256", false)) + "    <!-- keep me -->\n")
	wantParent = strings.Replace(wantParent, "      <owners>alice</owners>\n", "      <owners>alice</owners>\n"+certXML(fp('D', "SHA256"), "SHA256", false), 1)
	if got := readFile(t, tr.path("nuget.config")); got != wantParent {
		t.Errorf("parent file:\n%s\nwant:\n%s", got, wantParent)
	}
	// What was written reads back as it was meant.
	c = tr.mustLoad("sub")
	got := summary(tr, c)
	if want := []string{"feed/repository/1D@nuget.config", "nuget.org/repository/BC@sub/nuget.config", "newcomer/author/E@sub/nuget.config"}; !slices.Equal(got, want) {
		t.Errorf("reloaded: %q, want %q", got, want)
	}
	if s := c.TrustedSigners()[1]; !slices.Equal(s.Owners, []string{"microsoft", "aspnet"}) || !s.Certificates[1].AllowUntrustedRoot {
		t.Errorf("reloaded repository = %+v", s)
	}
}

func TestAddConflicts(t *testing.T) {
	tr := newTree(t)
	p := tr.write("nuget.config", signers(authorXML("Contoso", certXML(fp('1', "SHA256"), "SHA256", false))+
		repoXML("feed", "https://Feed.example/v3/index.json", "", certXML(fp('2', "SHA256"), "SHA256", false))))
	orig := readFile(t, p)
	c := tr.mustLoad(".")
	var ee *ExistsError
	if err := c.AddAuthor("contoso", fp('3', "SHA256"), "SHA256", false); !errors.As(err, &ee) || ee.Name != "Contoso" || ee.File != p {
		t.Errorf("duplicate name: %v", err)
	}
	if err := c.AddRepository("other", "https://feed.example/V3/index.json", []CertEntry{{Fingerprint: fp('3', "SHA256"), HashAlgorithm: "SHA256"}}, nil); err == nil {
		t.Error("a service index differing only in path case was accepted")
	}
	if err := c.AddRepository("other", "https://FEED.example/v3/index.json", []CertEntry{{Fingerprint: fp('3', "SHA256"), HashAlgorithm: "SHA256"}}, nil); !errors.As(err, &ee) || ee.ServiceIndex == "" {
		t.Errorf("duplicate service index: %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"http service index", c.AddRepository("x", "http://feed/index.json", []CertEntry{{Fingerprint: fp('3', "SHA256"), HashAlgorithm: "SHA256"}}, nil)},
		{"no certificates", c.AddRepository("x", "https://x/index.json", nil, nil)},
		{"owner with ;", c.AddRepository("x", "https://x/index.json", []CertEntry{{Fingerprint: fp('3', "SHA256"), HashAlgorithm: "SHA256"}}, []string{"a;b"})},
		{"SHA1", c.AddAuthor("x", strings.Repeat("A", 40), "SHA1", false)},
		{"short fingerprint", c.AddAuthor("x", "ABCD", "SHA256", false)},
		{"empty name", c.AddAuthor(" ", fp('3', "SHA256"), "SHA256", false)},
	} {
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := c.AddCertificate("contoso", strings.ToLower(fp('1', "SHA256")), "SHA256", true); err == nil || !strings.Contains(err.Error(), "already has the certificate") {
		t.Errorf("duplicate certificate: %v", err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != orig {
		t.Errorf("failed edits changed the file:\n%s", got)
	}
	if len(c.TrustedSigners()) != 2 {
		t.Errorf("failed edits changed the merged view: %+v", c.TrustedSigners())
	}
}

func TestSetCertificates(t *testing.T) {
	tr := newTree(t)
	p := tr.write("nuget.config", signers(`    <repository name="feed" serviceIndex="https://feed.example/v3/index.json">
      <!-- the feed's certificates -->
      <certificate fingerprint="`+fp('1', "SHA256")+`" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
      <owners>alice</owners>
      <certificateIdentity eku="1.3.6.1.4.1.99999.7" />
      <certificate fingerprint="`+fp('2', "SHA256")+`" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
    </repository>
`))
	c := tr.mustLoad(".")
	if err := c.SetCertificates("feed", []CertEntry{{Fingerprint: fp('3', "SHA384"), HashAlgorithm: "SHA384"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCertificates("missing", []CertEntry{{Fingerprint: fp('3', "SHA384"), HashAlgorithm: "SHA384"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown repository: %v", err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	want := signers(`    <repository name="feed" serviceIndex="https://feed.example/v3/index.json">
      <!-- the feed's certificates -->
      <owners>alice</owners>
      <certificateIdentity eku="1.3.6.1.4.1.99999.7" />
      <certificate fingerprint="` + fp('3', "SHA384") + `" hashAlgorithm="SHA384" allowUntrustedRoot="false" />
    </repository>
`)
	if got := readFile(t, p); got != want {
		t.Errorf("after SetCertificates:\n%s\nwant:\n%s", got, want)
	}
}

func TestRemove(t *testing.T) {
	a := func(name string, c byte) string { return authorXML(name, certXML(fp(c, "SHA256"), "SHA256", false)) }
	t.Run("overridden entries go too", func(t *testing.T) {
		tr := newTree(t)
		parent := tr.write("nuget.config", signers(a("x", '1')+a("keep", '2')))
		child := tr.write("sub/nuget.config", signers(a("x", '3')))
		c := tr.mustLoad("sub")
		n, err := c.Remove("x")
		if err != nil || n != 1 {
			t.Fatalf("Remove = %d, %v", n, err)
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		if got := summary(tr, tr.mustLoad("sub")); !slices.Equal(got, []string{"keep/author/2@nuget.config"}) {
			t.Errorf("after Remove: %q", got)
		}
		if strings.Contains(readFile(t, child), "trustedSigners") || !strings.Contains(readFile(t, parent), `"keep"`) {
			t.Errorf("files:\n%s\n%s", readFile(t, parent), readFile(t, child))
		}
	})
	t.Run("nothing to remove", func(t *testing.T) {
		tr := newTree(t)
		tr.write("nuget.config", signers(a("x", '1')))
		if n, err := tr.mustLoad(".").Remove("y"); n != 0 || err != nil {
			t.Errorf("Remove = %d, %v", n, err)
		}
	})
	t.Run("read-only entries", func(t *testing.T) {
		tr := newTree(t)
		machine := tr.write("machine/NuGet/Config/corp.config", signers(a("corp", '1')+a("both", '2')))
		local := tr.write("work/nuget.config", signers(a("both", '3')))
		orig := readFile(t, local)
		c := tr.mustLoad("work")
		var ro *ReadOnlyError
		if _, err := c.Remove("corp"); !errors.As(err, &ro) || ro.File != machine {
			t.Errorf("removing a machine-wide entry: %v", err)
		}
		if _, err := c.AddCertificate("corp", fp('4', "SHA256"), "SHA256", false); !errors.As(err, &ro) {
			t.Errorf("adding to a machine-wide entry: %v", err)
		}
		// Removing the local "both" would bring the machine-wide one back:
		// refused, and nothing changes.
		if _, err := c.Remove("both"); !errors.As(err, &ro) || ro.File != machine {
			t.Errorf("removing an entry that shadows a machine-wide one: %v", err)
		}
		if got := summary(tr, c); !slices.Equal(got, []string{"corp/author/1@machine/NuGet/Config/corp.config", "both/author/3@work/nuget.config"}) {
			t.Errorf("merged view after refused edits: %q", got)
		}
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		if readFile(t, local) != orig {
			t.Error("a refused edit changed the local file")
		}
	})
}

func TestCreateUserConfig(t *testing.T) {
	tr := newTree(t)
	tr.mkdir("project")
	c := tr.mustLoad("project")
	if err := c.AddAuthor("a", fp('1', "SHA256"), "SHA256", false); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, tr.userConfig())
	if !strings.Contains(got, `<add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />`) ||
		!strings.Contains(got, "  <trustedSigners>\n    <author name=\"a\">") {
		t.Errorf("created user config:\n%s", got)
	}
	fi, err := os.Stat(tr.userConfig())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("user config mode: %v, %v", fi.Mode(), err)
	}
	c = tr.mustLoad("project")
	if u, ok := c.PackageSource("nuget.org"); !ok || u != "https://api.nuget.org/v3/index.json" {
		t.Errorf("nuget.org source after creation: %q, %v", u, ok)
	}
	// A failed first edit creates nothing.
	tr2 := newTree(t)
	tr2.mkdir("p")
	c = tr2.mustLoad("p")
	if err := c.AddAuthor("a", "zz", "SHA256", false); err == nil {
		t.Fatal("bad fingerprint accepted")
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(tr2.userConfig())); !os.IsNotExist(err) {
		t.Errorf("a failed edit created the user config directory: %v", err)
	}
}

func TestNoWritableFile(t *testing.T) {
	tr := newTree(t)
	tr.env = map[string]string{"NUGET_COMMON_APPLICATION_DATA": tr.path("m")}
	tr.mkdir("p")
	c := tr.mustLoad("p")
	var ro *ReadOnlyError
	if err := c.AddAuthor("a", fp('1', "SHA256"), "SHA256", false); !errors.As(err, &ro) || !strings.Contains(err.Error(), "--configfile") {
		t.Errorf("no writable file: %v", err)
	}
}
