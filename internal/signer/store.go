package signer

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Certificate stores, as `dotnet nuget sign --certificate-store-name
// --certificate-store-location` reach them on Linux and macOS (spec 6.1):
//
//   - CurrentUser: .NET's X509Store directory
//     ~/.dotnet/corefx/cryptography/x509stores/<store>/ (PFX files named by
//     thumbprint, no password), then Signet's
//     <user config dir>/signet/x509stores/<store>/;
//   - LocalMachine: /etc/signet/x509stores/<store>/.
//
// Store names compare case-insensitively (.NET writes them lower-case). A
// store directory may hold PKCS#12 files (.pfx, .p12) with an empty
// password and PEM files holding a certificate chain and its key.

// maxStoreFiles bounds how many files one store search reads: a personal
// store holds a handful of certificates.
const maxStoreFiles = 1024

// StoreDirs returns the directories searched for a store name and location
// ("CurrentUser" or "LocalMachine", case-insensitive; empty means
// CurrentUser), in order.
func StoreDirs(name, location string) ([]string, error) {
	if name == "" {
		name = "My"
	}
	store := strings.ToLower(name)
	switch strings.ToLower(location) {
	case "", "currentuser":
		var dirs []string
		if home, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(home, ".dotnet", "corefx", "cryptography", "x509stores", store))
		}
		if cfg, err := os.UserConfigDir(); err == nil {
			dirs = append(dirs, filepath.Join(cfg, "signet", "x509stores", store))
		}
		return dirs, nil
	case "localmachine":
		return []string{filepath.Join("/etc", "signet", "x509stores", store)}, nil
	}
	return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("certificate store location %q is not CurrentUser or LocalMachine", location)}
}

// Selector says which store certificate to sign with: a fingerprint
// (SHA-256, or SHA-1 hex) or a subject-name substring.
type Selector struct {
	Fingerprint string
	SubjectName string
}

// CheckFingerprint validates a --certificate-fingerprint value: hex whose
// length names its algorithm (40 SHA-1, 64 SHA-256, 96 SHA-384, 128
// SHA-512). It reports whether the value is SHA-1, which NuGet warns about
// (NU3043).
func CheckFingerprint(fp string) (sha1 bool, err error) {
	fp = strings.ReplaceAll(fp, ":", "")
	if _, herr := hex.DecodeString(fp); herr != nil {
		return false, &Error{Code: "NU3043", Msg: fmt.Sprintf("certificate fingerprint %q is not hexadecimal", fp)}
	}
	switch len(fp) {
	case 40:
		return true, nil
	case 64, 96, 128:
		return false, nil
	}
	return false, &Error{Code: "NU3043", Msg: fmt.Sprintf("certificate fingerprint %q has %d hex digits: want 64 (SHA-256), 96 (SHA-384) or 128 (SHA-512)", fp, len(fp))}
}

// Matches reports whether c is selected.
func (s Selector) Matches(c *x509.Certificate) bool {
	if fp := strings.ToUpper(strings.ReplaceAll(s.Fingerprint, ":", "")); fp != "" {
		var sum []byte
		switch len(fp) {
		case 40:
			h := sha1.Sum(c.Raw)
			sum = h[:]
		case 64:
			h := sha256.Sum256(c.Raw)
			sum = h[:]
		case 96:
			h := sha512.Sum384(c.Raw)
			sum = h[:]
		case 128:
			h := sha512.Sum512(c.Raw)
			sum = h[:]
		}
		return sum != nil && strings.ToUpper(hex.EncodeToString(sum)) == fp
	}
	return s.SubjectName != "" && strings.Contains(strings.ToLower(c.Subject.String()), strings.ToLower(s.SubjectName))
}

// FindInStore returns the identity in dirs that sel selects. None is an
// error; several are NU3001 with every candidate listed, as dotnet does.
func FindInStore(dirs []string, sel Selector) (*Identity, error) {
	var found []*Identity
	seen := map[string]bool{}
	n := 0
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue // a store that does not exist holds nothing
		}
		for _, e := range ents {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if n++; n > maxStoreFiles {
				return nil, &Error{Code: CodeInvalidInput, File: d, Msg: fmt.Sprintf("more than %d files in the certificate stores", maxStoreFiles)}
			}
			id, err := Load(filepath.Join(d, e.Name()), "", "")
			if err != nil || !sel.Matches(id.Certificate) || seen[string(id.Certificate.Raw)] {
				continue
			}
			seen[string(id.Certificate.Raw)] = true
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("no certificate with a private key matching %s was found in %s", sel.describe(), strings.Join(dirs, ", ")), Err: ErrNoCertificate}
	case 1:
		return found[0], nil
	}
	var names []string
	for _, id := range found {
		s := sha256.Sum256(id.Certificate.Raw)
		names = append(names, fmt.Sprintf("%q (SHA-256 %X)", id.Certificate.Subject.String(), s[:]))
	}
	sort.Strings(names)
	return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("%d certificates match %s: %s; name one by --certificate-fingerprint", len(found), sel.describe(), strings.Join(names, "; "))}
}

func (s Selector) describe() string {
	if s.Fingerprint != "" {
		return fmt.Sprintf("fingerprint %s", s.Fingerprint)
	}
	return fmt.Sprintf("subject name %q", s.SubjectName)
}
