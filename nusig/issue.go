package nusig

import "fmt"

// Code is a NuGet log code (NU3000–NU3043) as the NuGet client reports it.
type Code string

// The NuGet codes Signet reports (spec section 8).
const (
	NU3000 Code = "NU3000" // generic signing error
	NU3001 Code = "NU3001" // invalid input when signing
	NU3002 Code = "NU3002" // no timestamper given
	NU3003 Code = "NU3003" // the signature cannot be decoded
	NU3004 Code = "NU3004" // the package is not signed
	NU3005 Code = "NU3005" // bad signature file entry
	NU3006 Code = "NU3006" // signed Zip64 packages are not supported
	NU3007 Code = "NU3007" // unsupported signature format version
	NU3008 Code = "NU3008" // package integrity check failed
	NU3009 Code = "NU3009" // not exactly one primary signature
	NU3010 Code = "NU3010" // the primary signature has no signing certificate
	NU3011 Code = "NU3011" // the primary signature is invalid
	NU3012 Code = "NU3012" // primary signature validation failed
	NU3013 Code = "NU3013" // unsupported certificate signature algorithm
	NU3014 Code = "NU3014" // public key too short or not RSA
	NU3015 Code = "NU3015" // lifetime-signing EKU
	NU3016 Code = "NU3016" // unsupported package hash algorithm
	NU3017 Code = "NU3017" // signing certificate not yet valid
	NU3018 Code = "NU3018" // chain building failed for the primary signature
	NU3019 Code = "NU3019" // timestamp integrity check failed
	NU3020 Code = "NU3020" // timestamp has no signing certificate
	NU3021 Code = "NU3021" // timestamp signature validation failed
	NU3022 Code = "NU3022" // TSA certificate signature algorithm unsupported
	NU3023 Code = "NU3023" // TSA certificate key too short
	NU3024 Code = "NU3024" // timestamp digest algorithm unsupported
	NU3025 Code = "NU3025" // TSA certificate not yet valid
	NU3026 Code = "NU3026" // timestamp nonce mismatch
	NU3027 Code = "NU3027" // the signature should be timestamped
	NU3028 Code = "NU3028" // chain building failed for the timestamp
	NU3029 Code = "NU3029" // timestamp signature invalid
	NU3030 Code = "NU3030" // timestamp imprint algorithm unsupported
	NU3031 Code = "NU3031" // repository countersignature invalid
	NU3032 Code = "NU3032" // multiple repository countersignatures
	NU3033 Code = "NU3033" // repository primary signature with a repository countersignature
	NU3034 Code = "NU3034" // signer certificate not in the allow list
	NU3035 Code = "NU3035" // chain building failed for the repository countersignature
	NU3036 Code = "NU3036" // timestamp genTime outside the TSA certificate's validity
	NU3037 Code = "NU3037" // signature validity period has expired
	NU3038 Code = "NU3038" // a repository countersignature is required
	NU3039 Code = "NU3039" // signing would require Zip64
	NU3040 Code = "NU3040" // conflicting duplicate trusted certificate entries
	NU3042 Code = "NU3042" // root not in the certificate bundle
	NU3043 Code = "NU3043" // invalid certificate fingerprint for signing
)

// Error is an error that carries the NuGet code NuGet reports for it.
type Error struct {
	Code Code
	Msg  string
	Err  error // the cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

func newIssueError(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

func wrapIssueError(c Code, err error, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...), Err: err}
}
