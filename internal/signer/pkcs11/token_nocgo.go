//go:build !cgo

package pkcs11

// Supported reports whether this build can load PKCS#11 modules (it needs
// cgo).
const Supported = false

// session is empty: without cgo no module can be loaded.
type session struct{}

func openToken(*URI, string) (*Token, error) { return nil, ErrNotSupported }

func (*session) findKeys(string, []byte) ([]*Key, error) { return nil, ErrNotSupported }

func (*session) close() error { return nil }
