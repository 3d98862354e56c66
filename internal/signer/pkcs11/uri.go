// Package pkcs11 signs with RSA keys held in PKCS#11 tokens (HSMs, smart
// cards, USB tokens, SoftHSM2), named by RFC 7512 "pkcs11:" URIs:
//
//	pkcs11:token=Signet;object=author?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin
//
// Contract:
//   - The private key never leaves the token: Key.Sign hands the DER
//     DigestInfo of a SHA-256/384/512 digest to the token (CKM_RSA_PKCS,
//     RSA PKCS#1 v1.5) and checks the signature it gets back against the
//     key's public half before returning it.
//   - The PIN is read from a file or an environment variable (pin-source);
//     a PIN written into the URI (pin-value) is refused, because a key
//     reference ends up on command lines, in shell history and in process
//     listings. The PIN is never part of an error message.
//   - Every failure is one line saying what was looked for and what was
//     seen: module not found or not loadable, token not found (with the
//     tokens present), wrong PIN, object not found (with the keys present),
//     not an RSA key.
//
// URI parsing is pure Go. Talking to a module needs cgo (the module is a C
// shared library, loaded with github.com/ThalesGroup/crypto11 over
// github.com/miekg/pkcs11); a build without cgo has Supported == false and
// Open returns ErrNotSupported.
package pkcs11

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Prefix starts every PKCS#11 URI (RFC 7512 section 2.3).
const Prefix = "pkcs11:"

// maxURILength bounds a URI: real ones (a label, an id, a module path and a
// PIN file) are under 300 bytes; a longer one is a mistake, and the bound
// keeps error messages that quote it short.
const maxURILength = 4096

// URI is a parsed RFC 7512 PKCS#11 URI naming a token and a key pair on
// it. Empty fields match anything.
type URI struct {
	// Token attributes (RFC 7512 2.3), matched against CK_TOKEN_INFO.
	Token        string // "token": the token's label
	Manufacturer string // "manufacturer": manufacturerID
	Model        string // "model"
	Serial       string // "serial": serialNumber
	// SlotID is "slot-id": the CK_SLOT_ID holding the token, when given.
	SlotID *uint

	// Object attributes, matched against the key pair.
	Object string // "object": CKA_LABEL
	ID     []byte // "id": CKA_ID (bytes, percent-encoded in the URI)
	// Type is "type": one of "private", "public" or "cert"; all three name
	// the key pair (a certificate's URI is accepted for its key).
	Type string

	// Query attributes.
	ModulePath string // "module-path": the PKCS#11 library to load
	// PINSource is "pin-source": a file path (or a file: URI) holding the
	// PIN, or "env:NAME" naming an environment variable.
	PINSource string
}

// pathAttrs and queryAttrs are the attributes ParseURI accepts, in the
// order String writes them.
var (
	pathAttrs  = []string{"token", "manufacturer", "serial", "model", "slot-id", "object", "id", "type"}
	queryAttrs = []string{"module-path", "pin-source"}
)

// ParseURI parses an RFC 7512 PKCS#11 URI. Attributes Signet does not use
// are refused rather than ignored, so that a typing mistake never widens
// what the URI matches; so are repeated attributes, empty values, control
// characters and (for every attribute but id) values that are not UTF-8.
// pin-value is refused: see the package documentation.
func ParseURI(s string) (*URI, error) {
	if len(s) > maxURILength {
		return nil, fmt.Errorf("pkcs11: URI is longer than %d bytes", maxURILength)
	}
	if len(s) < len(Prefix) || !strings.EqualFold(s[:len(Prefix)], Prefix) {
		return nil, fmt.Errorf("pkcs11: %q is not a PKCS#11 URI (it must start with %q)", s, Prefix)
	}
	path, query, _ := strings.Cut(s[len(Prefix):], "?")
	u := &URI{}
	seen := map[string]bool{}
	for _, part := range []struct {
		text, sep string
		known     []string
	}{{path, ";", pathAttrs}, {query, "&", queryAttrs}} {
		if part.text == "" {
			continue
		}
		for _, attr := range strings.Split(part.text, part.sep) {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("pkcs11: URI attribute %q is not name=value", attr)
			}
			if err := u.set(name, raw, part.known, seen); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// set decodes one attribute's value into u.
func (u *URI) set(name, raw string, known []string, seen map[string]bool) error {
	if name == "pin-value" {
		return errors.New("pkcs11: pin-value is refused: a PIN must not be written on a command line; use pin-source=<file> or pin-source=env:<VARIABLE>")
	}
	if !contains(known, name) {
		if contains(pathAttrs, name) || contains(queryAttrs, name) {
			return fmt.Errorf("pkcs11: URI attribute %q is in the wrong part of the URI (path attributes go before '?', query attributes after)", name)
		}
		return fmt.Errorf("pkcs11: URI attribute %q is not supported (supported: %s; %s after '?')", name, strings.Join(pathAttrs, ", "), strings.Join(queryAttrs, ", "))
	}
	if seen[name] {
		return fmt.Errorf("pkcs11: URI attribute %q appears more than once", name)
	}
	seen[name] = true
	v, err := url.PathUnescape(raw)
	if err != nil {
		return fmt.Errorf("pkcs11: URI attribute %q has a bad percent-encoding: %q", name, raw)
	}
	if v == "" {
		return fmt.Errorf("pkcs11: URI attribute %q is empty", name)
	}
	if name == "id" {
		u.ID = []byte(v)
		return nil
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
		return fmt.Errorf("pkcs11: URI attribute %q is not printable UTF-8 text", name)
	}
	switch name {
	case "token":
		u.Token = v
	case "manufacturer":
		u.Manufacturer = v
	case "serial":
		u.Serial = v
	case "model":
		u.Model = v
	case "object":
		u.Object = v
	case "slot-id":
		n, err := strconv.ParseUint(v, 10, strconv.IntSize-1) // crypto11 takes an int
		if err != nil {
			return fmt.Errorf("pkcs11: URI attribute slot-id=%q is not a decimal slot number", v)
		}
		id := uint(n)
		u.SlotID = &id
	case "type":
		switch v {
		case "private", "public", "cert":
			u.Type = v
		default:
			return fmt.Errorf("pkcs11: URI attribute type=%q names no key pair: use type=private (or leave it out)", v)
		}
	case "module-path":
		u.ModulePath = v
	case "pin-source":
		u.PINSource = v
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String returns the URI in RFC 7512 form, percent-encoding every byte
// outside the unreserved set (and ':' and, in the query, '/'). Parsing the
// result gives u back.
func (u *URI) String() string {
	var path, query []string
	add := func(list *[]string, name, v string, keep string) {
		if v != "" {
			*list = append(*list, name+"="+escape(v, keep))
		}
	}
	add(&path, "token", u.Token, ":")
	add(&path, "manufacturer", u.Manufacturer, ":")
	add(&path, "serial", u.Serial, ":")
	add(&path, "model", u.Model, ":")
	if u.SlotID != nil {
		path = append(path, "slot-id="+strconv.FormatUint(uint64(*u.SlotID), 10))
	}
	add(&path, "object", u.Object, ":")
	add(&path, "id", string(u.ID), "")
	add(&path, "type", u.Type, "")
	add(&query, "module-path", u.ModulePath, ":/")
	add(&query, "pin-source", u.PINSource, ":/")
	s := Prefix + strings.Join(path, ";")
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// escape percent-encodes v, keeping RFC 3986 unreserved characters and
// those in keep.
func escape(v, keep string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~"+keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// tokenDesc is what a token says about itself (CK_TOKEN_INFO) and where it
// sits.
type tokenDesc struct {
	Label, Manufacturer, Model, Serial string
	Slot                               uint
}

// matchesToken reports whether every token attribute of u matches t.
func (u *URI) matchesToken(t tokenDesc) bool {
	return (u.Token == "" || u.Token == t.Label) &&
		(u.Manufacturer == "" || u.Manufacturer == t.Manufacturer) &&
		(u.Model == "" || u.Model == t.Model) &&
		(u.Serial == "" || u.Serial == t.Serial) &&
		(u.SlotID == nil || *u.SlotID == t.Slot)
}

// tokenQuery describes u's token attributes for messages.
func (u *URI) tokenQuery() string {
	var parts []string
	for _, a := range []struct{ name, v string }{{"token", u.Token}, {"manufacturer", u.Manufacturer}, {"model", u.Model}, {"serial", u.Serial}} {
		if a.v != "" {
			parts = append(parts, fmt.Sprintf("%s=%q", a.name, a.v))
		}
	}
	if u.SlotID != nil {
		parts = append(parts, fmt.Sprintf("slot-id=%d", *u.SlotID))
	}
	if len(parts) == 0 {
		return "any token"
	}
	return strings.Join(parts, ";")
}

// objectQuery describes u's object attributes for messages.
func (u *URI) objectQuery() string {
	var parts []string
	if u.Object != "" {
		parts = append(parts, fmt.Sprintf("object=%q", u.Object))
	}
	if u.ID != nil {
		parts = append(parts, fmt.Sprintf("id=%X", u.ID))
	}
	if len(parts) == 0 {
		return "any key"
	}
	return strings.Join(parts, ";")
}

// String describes the token for messages: its label, serial and slot.
func (t tokenDesc) String() string {
	return fmt.Sprintf("%q (serial %q, slot %d)", t.Label, t.Serial, t.Slot)
}
