package pkcs11

import (
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNotSupported is returned by Open in a build without cgo.
var ErrNotSupported = errors.New("pkcs11: built without PKCS#11 support (cgo disabled)")

// maxListed bounds how many tokens or keys an error message lists.
const maxListed = 8

// Token is an open, logged-in session with the token a URI names. Close it
// when done; until then its keys can sign, from several goroutines at once.
type Token struct {
	desc  tokenDesc
	uri   *URI
	certs []tokenCertificate
	s     *session
}

// Open loads the module u names (module-path), finds the one initialised
// token whose attributes match u's, and logs in with the PIN from u's
// pin-source (getenv resolves "env:" sources; a token that needs no login
// may have none). Objects are not looked up yet: see Key and Keys.
func Open(u *URI, getenv func(string) string) (*Token, error) {
	if u.ModulePath == "" {
		return nil, fmt.Errorf("pkcs11: the URI names no module: a URI without module-path is not supported; add ?module-path=/path/to/pkcs11-module.so")
	}
	var pin string
	if u.PINSource != "" {
		var err error
		if pin, err = readPIN(u.PINSource, getenv); err != nil {
			return nil, err
		}
	}
	return openToken(u, pin)
}

// String names the token for messages.
func (t *Token) String() string { return t.desc.String() }

// Label returns the token's label.
func (t *Token) Label() string { return t.desc.Label }

// Certificates returns the X.509 certificates stored on the token, in the
// token's order (for chain building: a token often holds the issuers too).
func (t *Token) Certificates() []*x509.Certificate {
	out := make([]*x509.Certificate, len(t.certs))
	for i, c := range t.certs {
		out[i] = c.cert
	}
	return out
}

// Keys returns the key pairs on the token that the URI's object and id
// attributes select (all of them when it gives neither), each with its
// certificate when the token holds one.
func (t *Token) Keys() ([]*Key, error) {
	return t.keys(t.uri.Object, t.uri.ID)
}

func (t *Token) keys(label string, id []byte) ([]*Key, error) {
	keys, err := t.s.findKeys(label, id)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: token %q: listing keys: %w", t.desc.Label, err)
	}
	for _, k := range keys {
		k.token = t.desc.Label
		k.Certificate = certificateFor(k.pub, k.ID, k.Label, t.certs)
	}
	return keys, nil
}

// Key returns the one RSA key pair the URI selects. None is an error that
// lists the keys on the token; several are an error asking for object= or
// id=; a key of another type is "not an RSA key".
func (t *Token) Key() (*Key, error) {
	keys, err := t.Keys()
	if err != nil {
		return nil, err
	}
	switch len(keys) {
	case 0:
		all, err := t.keys("", nil)
		if err != nil || len(all) == 0 {
			return nil, fmt.Errorf("pkcs11: object not found: no key pair with %s on token %q, which holds no key pairs", t.uri.objectQuery(), t.desc.Label)
		}
		return nil, fmt.Errorf("pkcs11: object not found: no key pair with %s on token %q; keys on the token: %s", t.uri.objectQuery(), t.desc.Label, describeKeys(all))
	case 1:
		if !keys[0].IsRSA() {
			return nil, fmt.Errorf("pkcs11: key %s on token %q is %s, not an RSA key: NuGet signatures need RSA", keys[0].Describe(), t.desc.Label, keyKind(keys[0].pub))
		}
		return keys[0], nil
	}
	return nil, fmt.Errorf("pkcs11: %d key pairs match %s on token %q: %s; name one with object= or id=", len(keys), t.uri.objectQuery(), t.desc.Label, describeKeys(keys))
}

// Close closes the token's sessions (which ends the login) and, when no
// other Token uses it, finalises and unloads the module.
func (t *Token) Close() error {
	return t.s.close()
}

// describeKeys lists keys for messages, sorted, each with its label, id
// and type: "code" (id 01, RSA).
func describeKeys(keys []*Key) string {
	var names []string
	for _, k := range keys {
		kind := strings.TrimSuffix(strings.TrimPrefix(keyKind(k.pub), "an "), " key")
		switch {
		case k.Label != "":
			names = append(names, fmt.Sprintf("%q (id %X, %s)", k.Label, k.ID, kind))
		default:
			names = append(names, fmt.Sprintf("id %X (%s)", k.ID, kind))
		}
	}
	sort.Strings(names)
	if len(names) > maxListed {
		names = append(names[:maxListed], fmt.Sprintf("and %d more", len(names)-maxListed))
	}
	return strings.Join(names, ", ")
}

func describeTokens(tokens []tokenDesc) string {
	if len(tokens) == 0 {
		return "none"
	}
	var names []string
	for i, t := range tokens {
		if i == maxListed {
			names = append(names, fmt.Sprintf("and %d more", len(tokens)-maxListed))
			break
		}
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// selectToken returns the one token in seen that u matches.
func selectToken(u *URI, seen []tokenDesc) (tokenDesc, error) {
	var matches []tokenDesc
	for _, t := range seen {
		if u.matchesToken(t) {
			matches = append(matches, t)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return tokenDesc{}, fmt.Errorf("pkcs11: token not found: no token matches %s in module %q; tokens seen: %s", u.tokenQuery(), u.ModulePath, describeTokens(seen))
	}
	return tokenDesc{}, fmt.Errorf("pkcs11: %d tokens match %s in module %q: %s; name one with token=, serial= or slot-id=", len(matches), u.tokenQuery(), u.ModulePath, describeTokens(matches))
}
