package nupkg

// NU codes carried by *Error. They are NuGet's codes for the same failures
// (NuGet's NuGetLogCode), so tools can match on them.
const (
	// CodeInvalidSignatureEntry (NU3005): the package signature file entry
	// is missing, duplicated or malformed (compressed, flags set, sizes that
	// differ, external attributes, a bad local header, ...).
	CodeInvalidSignatureEntry = "NU3005"
	// CodeZip64 (NU3006): signed Zip64 packages are not supported.
	CodeZip64 = "NU3006"
	// CodeZip64Required (NU3039): adding a signature would need Zip64 (the
	// package already has 0xFFFE entries or more, or would pass 4 GiB).
	CodeZip64Required = "NU3039"
)

// Error is a failure that NuGet reports with an NU code. Its Error method
// reads "nupkg: NU3005: <Msg>[: <Err>]"; use errors.As to get at the code.
type Error struct {
	// Code is NuGet's code, one of the Code constants.
	Code string
	// Msg says what is wrong, in NuGet's sense, without the code.
	Msg string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	s := "nupkg: " + e.Code + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func codeError(code, msg string) *Error { return &Error{Code: code, Msg: msg} }
