// Package probe keeps the module's chosen dependencies in go.mod while the
// packages that use them are being written. Delete it once every dependency
// listed here is imported by real code.
package probe

import (
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "golang.org/x/crypto/cryptobyte"
	_ "golang.org/x/crypto/ocsp"
	_ "golang.org/x/term"
	_ "software.sslmate.com/src/go-pkcs12"
)
