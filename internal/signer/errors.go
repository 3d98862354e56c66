package signer

import (
	"errors"
	"fmt"
	"strings"
)

// CodeInvalidInput is NuGet's code for every problem with the signing
// certificate or key given to the sign command (spec section 8, NU3001: bad
// or missing PFX or password, certificate not found, key provider problem).
const CodeInvalidInput = "NU3001"

// Sentinel causes carried in [Error.Err]; test them with errors.Is. Their
// text is written to follow "signer: <file>: " in [Error.Error].
var (
	// ErrWrongPassword: the PKCS#12 file's MAC or encryption does not
	// accept the password given (or the empty password, when none was given).
	ErrWrongPassword = errors.New("the certificate password is incorrect")
	// ErrEncryptedKey: the PEM key is encrypted; only unencrypted PEM keys
	// are read (use a PKCS#12 file for a password-protected key).
	ErrEncryptedKey = errors.New("the private key is encrypted")
	// ErrNoKey: no private key was found.
	ErrNoKey = errors.New("no private key found")
	// ErrNoCertificate: no certificate was found.
	ErrNoCertificate = errors.New("no certificate found")
	// ErrKeyMismatch: the private key does not belong to the certificate.
	ErrKeyMismatch = errors.New("the private key does not match the certificate")
	// ErrUnsupportedKey: the key type cannot sign (not RSA, ECDSA or Ed25519).
	ErrUnsupportedKey = errors.New("unsupported private key type")
)

// Error is a failure to load a signing identity. It prints on one line as
// "NU3001: signer: "<file>": <message>: <cause>", leaving out empty parts.
type Error struct {
	// Code is the NuGet code (CodeInvalidInput for every load failure).
	Code string
	// File is the file the problem is in, when known.
	File string
	// Msg says what went wrong, lowercase, no final period.
	Msg string
	// Err is the cause: one of the Err… sentinels or a parser's error.
	Err error
}

// Error returns the one-line message.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	b.WriteString("signer: ")
	if e.File != "" {
		fmt.Fprintf(&b, "%q: ", e.File)
	}
	// A sentinel says what is wrong and Msg adds detail; any other cause
	// explains Msg.
	parts := make([]string, 0, 2)
	if e.Msg != "" {
		parts = append(parts, e.Msg)
	}
	if e.Err != nil {
		if isSentinel(e.Err) {
			parts = append([]string{e.Err.Error()}, parts...)
		} else {
			parts = append(parts, e.Err.Error())
		}
	}
	b.WriteString(strings.Join(parts, ": "))
	// One line: parsers' messages never contain newlines today, but a
	// file name could.
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func isSentinel(err error) bool {
	switch err {
	case ErrWrongPassword, ErrEncryptedKey, ErrNoKey, ErrNoCertificate, ErrKeyMismatch, ErrUnsupportedKey:
		return true
	}
	return false
}

// fail builds an Error with NuGet's NU3001.
func fail(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf(format, args...), Err: err}
}

// inFile sets the file name on err when it is an *Error without one.
func inFile(err error, name string) error {
	var e *Error
	if errors.As(err, &e) && e.File == "" {
		e.File = name
	}
	return err
}
