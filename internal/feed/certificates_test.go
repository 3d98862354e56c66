package feed

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/store"
)

// testCA issues the certificates of these tests, with shared test keys
// (numbers 700–799 of devpki.TestKey).
type testCA struct {
	t  testing.TB
	ca *devpki.CA
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	ca, err := devpki.NewRoot("Signet Feed Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 700)})
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{t: t, ca: ca}
}

// leaf issues a code-signing certificate named cn with test key n (RSA
// 2048) unless o says otherwise.
func (c *testCA) leaf(cn string, n int, o devpki.LeafOptions) *x509.Certificate {
	c.t.Helper()
	o.CommonName = cn
	if o.Key == nil && !o.ECDSA {
		o.Key = devpki.TestKey(c.t, 2048, 700+n)
	}
	id, err := c.ca.Issue(o)
	if err != nil {
		c.t.Fatal(err)
	}
	return id.Certificate
}

func pemCert(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// formUpload is a multipart/form-data body with the file in the field
// "certificate" (unless file is nil) and the other fields.
func formUpload(file []byte, fields map[string]string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		w, _ := mw.CreateFormFile(certificateField, "signing.cer")
		w.Write(file)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

const accountCerts = "/api/v1/account/certificates"

// TestCertificateUpload: registering needs a two-factor session; the
// answer gives the certificate's facts and warnings; anything but one
// certificate is refused.
func TestCertificateUpload(t *testing.T) {
	pki := newTestCA(t)
	good := pki.leaf("Ann Signer", 1, devpki.LeafOptions{})
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann := h.signup("ann")
			code, body := ann.upload(accountCerts, "application/pkix-cert", good.Raw, nil)
			if code != 403 || !strings.Contains(string(body), msgNeedTwoFactorSession) {
				t.Fatalf("upload without a two-factor session = %d %s", code, body)
			}
			ann.enableTwoFactor(clk.now())

			var got certificateJSON
			if code, body := ann.upload(accountCerts, "application/pkix-cert", good.Raw, &got); code != 201 {
				t.Fatalf("upload = %d %s", code, body)
			}
			want := certificateJSON{SHA256: fingerprint(good), Subject: good.Subject.String(), Issuer: good.Issuer.String(),
				NotBefore: good.NotBefore.UTC(), NotAfter: good.NotAfter.UTC(), EKUs: []string{"codeSigning"},
				KeyAlgorithm: "RSA", KeySize: 2048, Revocation: "unknown", Warnings: []certificateWarning{}}
			got.Registered = time.Time{}
			if !equalJSON(got, want) {
				t.Fatalf("facts = %+v\nwant    %+v", got, want)
			}
			if code, body := ann.upload(accountCerts, "application/octet-stream", pemCert(good), nil); code != 409 || !strings.Contains(string(body), want.SHA256) {
				t.Fatalf("second upload = %d %s, want 409 naming the fingerprint", code, body)
			}
		})
	}
}

// equalJSON compares two certificate answers field by field.
func equalJSON(a, b certificateJSON) bool {
	return a.SHA256 == b.SHA256 && a.Subject == b.Subject && a.Issuer == b.Issuer && a.NotBefore.Equal(b.NotBefore) &&
		a.NotAfter.Equal(b.NotAfter) && slices.Equal(a.EKUs, b.EKUs) && a.KeyAlgorithm == b.KeyAlgorithm &&
		a.KeySize == b.KeySize && a.Revocation == b.Revocation && a.SelfIssued == b.SelfIssued &&
		slices.Equal(a.Warnings, b.Warnings) && (a.Identity == nil) == (b.Identity == nil)
}

// TestCertificateUploadForms: DER and PEM, raw and multipart, and every
// refusal, with its reason.
func TestCertificateUploadForms(t *testing.T) {
	pki := newTestCA(t)
	clk := newTestClock()
	h := newFeed(t, sqliteBackend, clk.use)
	ann := h.signup("ann")
	ann.enableTwoFactor(clk.now())

	leaf := func(n int) *x509.Certificate { return pki.leaf("Signer "+string(rune('A'+n)), n, devpki.LeafOptions{}) }
	key := devpki.TestKey(t, 2048, 799)
	csr, err := x509.CreateCertificateRequest(nil, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	id, err := pki.ca.Issue(devpki.LeafOptions{Key: key, CommonName: "PFX"})
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := devpki.EncodePFX(id, "password")
	if err != nil {
		t.Fatal(err)
	}
	c1 := leaf(1)
	withToken, withTokenType := formUpload(leaf(3).Raw, map[string]string{csrfField: ann.csrf, identityField: "on"})
	noToken, noTokenType := formUpload(leaf(4).Raw, nil)
	noFile, noFileType := formUpload(nil, map[string]string{csrfField: ann.csrf})
	twoFiles, twoFilesType := func() ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField(csrfField, ann.csrf)
		for range 2 {
			w, _ := mw.CreateFormFile(certificateField, "x.cer")
			w.Write(leaf(5).Raw)
		}
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}()

	tests := []struct {
		name        string
		contentType string
		header      map[string]string
		query       string
		body        []byte
		want        int
		message     string
	}{
		{"DER", "application/pkix-cert", nil, "", c1.Raw, 201, ""},
		{"PEM", "application/x-pem-file", nil, "", pemCert(leaf(2)), 201, ""},
		{"PEM with CRLF and a byte order mark", "application/x-x509-ca-cert", nil, "",
			append([]byte("\xef\xbb\xbf\r\n"), bytes.ReplaceAll(pemCert(leaf(6)), []byte("\n"), []byte("\r\n"))...), 201, ""},
		{"multipart with the CSRF field", withTokenType, nil, "", withToken, 201, ""},
		{"multipart with the CSRF header", noTokenType, map[string]string{csrfHeader: ann.csrf}, "", noToken, 201, ""},
		{"multipart without the CSRF token", noTokenType, nil, "", noToken, 403, "CSRF"},
		{"multipart without the file", noFileType, nil, "", noFile, 400, "in the form field"},
		{"multipart with two files", twoFilesType, nil, "", twoFiles, 400, `one file`},
		{"JSON", "application/json", nil, "", []byte(`{}`), 415, "Content-Type"},
		{"no Content-Type", "", map[string]string{csrfHeader: ann.csrf}, "", c1.Raw, 415, "Content-Type"},
		{"bad identity flag", "application/pkix-cert", nil, "?identity=maybe", leaf(7).Raw, 400, "identity"},
		{"empty", "application/pkix-cert", nil, "", nil, 400, "empty"},
		{"garbage", "application/octet-stream", nil, "", []byte("hello, world"), 400, "neither a DER nor a PEM"},
		{"PFX", "application/octet-stream", nil, "", pfx, 400, "PFX"},
		{"two DER certificates", "application/pkix-cert", nil, "", append(slices.Clone(c1.Raw), leaf(2).Raw...), 400, "data after the certificate"},
		{"two PEM certificates", "application/x-pem-file", nil, "", pemCert(leaf(8), pki.ca.Cert), 400, "more than one PEM block"},
		{"PEM with trailing text", "application/x-pem-file", nil, "", append(pemCert(leaf(8)), "junk"...), 400, "data after"},
		{"DER over 10,000 bytes", "application/pkix-cert", nil, "", append([]byte{0x30, 0x82, 0x27, 0x11}, make([]byte, 10001)...), 400, "larger than 10000 bytes"},
		{"PEM over 16 KiB", "application/x-pem-file", nil, "", append([]byte("-----BEGIN CERTIFICATE-----\n"), bytes.Repeat([]byte("A"), 17000)...), 400, "larger than"},
		{"body over the limit", "application/octet-stream", nil, "", make([]byte, 64<<10), 400, "larger than"},
		{"DER with a bad length", "application/pkix-cert", nil, "", c1.Raw[:len(c1.Raw)-1], 400, "neither a DER nor a PEM"},
		{"certificate request", "application/pkix-cert", nil, "", csr, 400, "signing request"},
		{"PEM certificate request", "application/x-pem-file", nil, "", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 400, "signing request"},
		{"private key", "application/x-pem-file", nil, "", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 400, "private key"},
		{"tampered DER", "application/pkix-cert", nil, "", tamper(c1.Raw), 400, "does not parse"},
	}
	for _, tt := range tests {
		hdr := map[string]string{}
		if tt.contentType != "" {
			hdr["Content-Type"] = tt.contentType
		}
		for k, v := range tt.header {
			hdr[k] = v
		}
		resp := ann.do("POST", accountCerts+tt.query, bytes.NewReader(tt.body), hdr)
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(buf.String(), tt.message) {
			t.Errorf("%s: %s %s; want %d %q", tt.name, resp.Status, buf.String(), tt.want, tt.message)
		}
	}
	var list struct {
		Certificates []certificateJSON
		Identities   []identityJSON
	}
	ann.mustJSON("GET", accountCerts, nil, 200, &list)
	if len(list.Certificates) != 5 || len(list.Identities) != 1 || list.Identities[0].Subject != leaf(3).Subject.String() {
		t.Fatalf("list after the uploads = %+v", list)
	}
}

// tamper breaks a certificate inside its TBS certificate, keeping the
// outer structure: the version's INTEGER tag becomes a BOOLEAN.
func tamper(der []byte) []byte {
	b := slices.Clone(der)
	if i := bytes.Index(b, []byte{0xa0, 0x03, 0x02, 0x01, 0x02}); i >= 0 {
		b[i+2] = 0x01
	}
	return b
}

// TestCertificateWarnings: certificates that would fail validation are
// registered, with a warning naming each problem.
func TestCertificateWarnings(t *testing.T) {
	pki := newTestCA(t)
	clk := newTestClock()
	h := newFeed(t, sqliteBackend, clk.use)
	ann := h.signup("ann")
	a := ann.enableTwoFactor(clk.now())
	now := clk.now()
	self, err := devpki.NewSelfSigned(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 720), CommonName: "Self"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cert  *x509.Certificate
		rules []string
	}{
		{"valid", pki.leaf("Valid", 10, devpki.LeafOptions{}), nil},
		{"expired", pki.leaf("Expired", 11, devpki.LeafOptions{NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)}), []string{"expired"}},
		{"not yet valid", pki.leaf("Future", 12, devpki.LeafOptions{NotBefore: now.Add(time.Hour), NotAfter: now.AddDate(1, 0, 0)}), []string{"not-yet-valid"}},
		{"RSA 1024", pki.leaf("Weak", 13, devpki.LeafOptions{Key: devpki.TestKey(t, 1024, 713)}), []string{"public-key"}},
		{"ECDSA", pki.leaf("Curve", 14, devpki.LeafOptions{ECDSA: true}), []string{"public-key"}},
		{"server EKU", pki.leaf("Web", 15, devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), []string{"code-signing-eku"}},
		{"self-issued", self.Certificate, []string{"self-issued"}},
	}
	for _, tt := range tests {
		var got certificateJSON
		if code, body := ann.upload(accountCerts, "application/pkix-cert", tt.cert.Raw, &got); code != 201 {
			t.Fatalf("%s: upload = %d %s", tt.name, code, body)
		}
		var rules []string
		for _, w := range got.Warnings {
			if w.Message == "" {
				t.Errorf("%s: warning %+v has no message", tt.name, w)
			}
			rules = append(rules, w.Rule)
		}
		if !slices.Equal(rules, tt.rules) {
			t.Errorf("%s: warnings %+v, want rules %q", tt.name, got.Warnings, tt.rules)
		}
	}
	// The list recomputes the warnings now: a year on, the valid one expired.
	clk.advance(devpki.DefaultLeafValidity + time.Hour)
	var list struct{ Certificates []certificateJSON }
	ann.login2(a, clk) // the session expired
	ann.mustJSON("GET", accountCerts, nil, 200, &list)
	if len(list.Certificates) != len(tests) || len(list.Certificates[0].Warnings) != 1 || list.Certificates[0].Warnings[0].Rule != "expired" {
		t.Fatalf("list a year on = %+v", list.Certificates)
	}
}

// TestCertificateManagement: one certificate row serves several accounts;
// identities find renewed certificates; removing needs a two-factor
// session too.
func TestCertificateManagement(t *testing.T) {
	pki := newTestCA(t)
	c1 := pki.leaf("Contoso Signing", 30, devpki.LeafOptions{})
	renewed := pki.leaf("Contoso Signing", 31, devpki.LeafOptions{})
	other := pki.leaf("Other", 32, devpki.LeafOptions{})
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann, bob := h.signup("ann"), h.signup("bob")
			a := ann.enableTwoFactor(clk.now())
			bob.enableTwoFactor(clk.now())

			var got certificateJSON
			if code, body := ann.upload(accountCerts+"?identity=true", "application/pkix-cert", c1.Raw, &got); code != 201 ||
				got.Identity == nil || got.Identity.Subject != c1.Subject.String() || got.Identity.Issuer != c1.Issuer.String() {
				t.Fatalf("upload with identity = %d %s", code, body)
			}
			if code, body := ann.upload(accountCerts, "application/pkix-cert", other.Raw, nil); code != 201 {
				t.Fatalf("upload = %d %s", code, body)
			}
			// Bob registers the same certificate: linked, not copied.
			if code, body := bob.upload(accountCerts, "application/pkix-cert", c1.Raw, nil); code != 201 {
				t.Fatalf("bob's upload = %d %s", code, body)
			}
			sum := sha256.Sum256(c1.Raw)
			holders, err := h.store.CertificateAccounts(ctx, sum[:])
			if err != nil || !slices.Equal(accountNames(holders), []string{"ann", "bob"}) {
				t.Fatalf("CertificateAccounts = %q, %v", accountNames(holders), err)
			}
			// The renewed certificate, never uploaded, is ann's by identity.
			byIdentity, err := h.store.IdentityAccounts(ctx, renewed.Subject.String(), renewed.Issuer.String())
			if err != nil || !slices.Equal(accountNames(byIdentity), []string{"ann"}) {
				t.Fatalf("IdentityAccounts(renewed) = %q, %v", accountNames(byIdentity), err)
			}

			var list struct {
				Account      string
				Certificates []certificateJSON
				Identities   []identityJSON
			}
			ann.mustJSON("GET", accountCerts, nil, 200, &list)
			if list.Account != "ann" || len(list.Certificates) != 2 || list.Certificates[0].SHA256 != fingerprint(c1) ||
				len(list.Identities) != 1 || list.Identities[0].Created.IsZero() {
				t.Fatalf("list = %+v", list)
			}

			// Removal, by fingerprint in either case.
			for _, path := range []string{"/certificates/nothex", "/certificates/" + strings.Repeat("AB", 31), "/certificates/" + fingerprint(renewed)} {
				ann.mustJSON("DELETE", "/api/v1/account"+path, nil, 404, nil)
			}
			ann.mustJSON("DELETE", accountCerts+"/"+strings.ToLower(fingerprint(c1)), nil, 204, nil)
			ann.mustJSON("DELETE", accountCerts+"/"+fingerprint(c1), nil, 404, nil)
			if holders, _ := h.store.CertificateAccounts(ctx, sum[:]); !slices.Equal(accountNames(holders), []string{"bob"}) {
				t.Fatalf("CertificateAccounts after ann's removal = %q", accountNames(holders))
			}
			id := map[string]string{"subject": c1.Subject.String(), "issuer": c1.Issuer.String()}
			bob.mustJSON("DELETE", "/api/v1/account/certificate-identities", id, 404, nil)
			ann.mustJSON("DELETE", "/api/v1/account/certificate-identities", id, 204, nil)
			ann.mustJSON("DELETE", "/api/v1/account/certificate-identities", id, 404, nil)

			// Without a second factor, ann can list but change nothing.
			ann.mustJSON("DELETE", "/api/v1/account/2fa", map[string]string{"code": a.recovery[0]}, 204, nil)
			ann.mustJSON("DELETE", "/api/v1/session", nil, 204, nil)
			ann.login(testPassword)
			for _, req := range []struct{ method, path string }{
				{"DELETE", accountCerts + "/" + fingerprint(other)},
				{"DELETE", "/api/v1/account/certificate-identities"},
			} {
				if code, body := ann.json(req.method, req.path, id, nil); code != 403 || !strings.Contains(string(body), msgNeedTwoFactorSession) {
					t.Errorf("%s %s without a two-factor session = %d %s", req.method, req.path, code, body)
				}
			}
			if code, _ := ann.upload(accountCerts, "application/pkix-cert", renewed.Raw, nil); code != 403 {
				t.Errorf("upload without a two-factor session = %d", code)
			}
			ann.mustJSON("GET", accountCerts, nil, 200, &list)
			if len(list.Certificates) != 1 || len(list.Identities) != 0 {
				t.Fatalf("list after removals = %+v", list)
			}
		})
	}
}

func accountNames(as []store.Account) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

// TestOrganizationCertificates: an organisation's certificates are
// managed by its admins (and site administrators), not its collaborators.
func TestOrganizationCertificates(t *testing.T) {
	pki := newTestCA(t)
	c1 := pki.leaf("Team Signing", 40, devpki.LeafOptions{})
	c2 := pki.leaf("Team Signing 2", 41, devpki.LeafOptions{})
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			clk := newTestClock()
			h := newFeed(t, b, clk.use)
			ann, bob := h.signup("ann"), h.signup("bob")
			ann.enableTwoFactor(clk.now())
			bob.enableTwoFactor(clk.now())
			ann.mustJSON("POST", "/api/v1/organizations", map[string]any{"name": "Team", "email": "team@example.com"}, 201, nil)
			ann.mustJSON("PUT", "/api/v1/organizations/Team/members/bob", map[string]any{"role": "collaborator"}, 204, nil)
			const teamCerts = "/api/v1/organizations/Team/certificates"

			if code, body := bob.upload(teamCerts, "application/pkix-cert", c1.Raw, nil); code != 403 || !strings.Contains(string(body), "admin") {
				t.Fatalf("collaborator's upload = %d %s", code, body)
			}
			bob.mustJSON("GET", teamCerts, nil, 403, nil)
			var got certificateJSON
			if code, body := ann.upload(teamCerts+"?identity=1", "application/pkix-cert", c1.Raw, &got); code != 201 || got.Identity == nil {
				t.Fatalf("admin's upload = %d %s", code, body)
			}
			bob.mustJSON("DELETE", teamCerts+"/"+fingerprint(c1), nil, 403, nil)
			ann.mustJSON("GET", "/api/v1/organizations/Nobody/certificates", nil, 404, nil)

			// The certificate is the organisation's, not its admin's.
			team, err := h.store.AccountByName(ctx, "Team")
			if err != nil {
				t.Fatal(err)
			}
			for _, acc := range []struct {
				id          int64
				certs, idts int
			}{{team.ID, 1, 1}} {
				certs, ids, err := h.store.CountSigningCredentials(ctx, acc.id)
				if err != nil || certs != acc.certs || ids != acc.idts {
					t.Fatalf("CountSigningCredentials(Team) = %d, %d, %v", certs, ids, err)
				}
			}
			var mine struct{ Certificates []certificateJSON }
			ann.mustJSON("GET", accountCerts, nil, 200, &mine)
			if len(mine.Certificates) != 0 {
				t.Fatalf("ann's own certificates = %+v", mine.Certificates)
			}

			// A site administrator may list; changing needs a second factor.
			root := h.admin()
			var list struct {
				Account      string
				Certificates []certificateJSON
			}
			root.mustJSON("GET", teamCerts, nil, 200, &list)
			if list.Account != "Team" || len(list.Certificates) != 1 {
				t.Fatalf("administrator's list = %+v", list)
			}
			if code, body := root.upload(teamCerts, "application/pkix-cert", c2.Raw, nil); code != 403 || !strings.Contains(string(body), msgNeedTwoFactorSession) {
				t.Fatalf("administrator's upload without 2FA = %d %s", code, body)
			}

			// Promoted, bob manages them.
			ann.mustJSON("PUT", "/api/v1/organizations/Team/members/bob", map[string]any{"role": "admin"}, 204, nil)
			if code, body := bob.upload(teamCerts, "application/pkix-cert", c2.Raw, nil); code != 201 {
				t.Fatalf("new admin's upload = %d %s", code, body)
			}
			bob.mustJSON("DELETE", teamCerts+"/"+fingerprint(c1), nil, 204, nil)
			bob.mustJSON("DELETE", "/api/v1/organizations/Team/certificate-identities",
				map[string]string{"subject": c1.Subject.String(), "issuer": c1.Issuer.String()}, 204, nil)
			if certs, ids, _ := h.store.CountSigningCredentials(ctx, team.ID); certs != 1 || ids != 0 {
				t.Fatalf("CountSigningCredentials(Team) after removals = %d, %d", certs, ids)
			}
		})
	}
}

// FuzzParseCertificateFile: the upload parser never panics, refuses with
// its own error, and accepts only one certificate within the bounds, whose
// facts can be computed.
func FuzzParseCertificateFile(f *testing.F) {
	pki := newTestCA(f)
	c := pki.leaf("Fuzz", 50, devpki.LeafOptions{})
	ec := pki.leaf("Fuzz EC", 51, devpki.LeafOptions{ECDSA: true})
	id, err := pki.ca.Issue(devpki.LeafOptions{Key: devpki.TestKey(f, 2048, 750)})
	if err != nil {
		f.Fatal(err)
	}
	pfx, err := devpki.EncodePFX(id, "")
	if err != nil {
		f.Fatal(err)
	}
	csr, _ := x509.CreateCertificateRequest(nil, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr"}}, id.Signer)
	for _, seed := range [][]byte{
		c.Raw, ec.Raw, pki.ca.Cert.Raw, pemCert(c), pemCert(c, ec), append(slices.Clone(c.Raw), ec.Raw...),
		pfx, csr, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}),
		nil, []byte("-----BEGIN CERTIFICATE-----\n"), {0x30, 0x03, 0x02, 0x01, 0x03},
	} {
		f.Add(seed)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		cert, err := parseCertificateFile(b)
		if err != nil {
			if cert != nil || !errors.Is(err, errCertificateFile) || certificateFileMessage(err) == "" {
				t.Fatalf("refusal %v with certificate %v", err, cert != nil)
			}
			return
		}
		if len(cert.Raw) > maxDERCertificate || len(b) > maxPEMCertificate+3 {
			t.Fatalf("accepted %d bytes, a certificate of %d", len(b), len(cert.Raw))
		}
		if !bytes.Contains(b, cert.Raw) {
			if block, _ := pem.Decode(bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")); block == nil || !bytes.Equal(block.Bytes, cert.Raw) {
				t.Fatal("the certificate is neither the file nor its PEM block")
			}
		}
		sum := sha256.Sum256(cert.Raw)
		facts := certificateFacts(cert, store.Certificate{SHA256: sum[:], Subject: cert.Subject.String(), Issuer: cert.Issuer.String()}, now)
		if facts.SHA256 == "" || facts.Warnings == nil {
			t.Fatalf("facts = %+v", facts)
		}
	})
}
