package pkcs11

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxPINFileSize bounds a PIN file: PKCS#11 PINs are at most a few dozen
// characters (SoftHSM2 allows 255); a larger file is not a PIN file.
const maxPINFileSize = 1024

// readPIN returns the PIN that source names (the URI's pin-source):
//   - "env:NAME": the value of environment variable NAME (looked up with
//     getenv);
//   - "file:/path", "file:///path" or a plain path: the file's content
//     without one trailing line ending.
//
// RFC 7512's "|command" form is refused. Errors never contain the PIN.
func readPIN(source string, getenv func(string) string) (string, error) {
	if name, ok := strings.CutPrefix(source, "env:"); ok {
		if name == "" {
			return "", errors.New("pkcs11: pin-source=env: names no environment variable")
		}
		pin := getenv(name)
		if pin == "" {
			return "", fmt.Errorf("pkcs11: environment variable %q named by pin-source is not set or empty", name)
		}
		return pin, nil
	}
	if strings.HasPrefix(source, "|") {
		return "", errors.New("pkcs11: pin-source commands (\"|program\") are not supported: use a file or env:<VARIABLE>")
	}
	path := source
	if rest, ok := strings.CutPrefix(source, "file://"); ok {
		if !strings.HasPrefix(rest, "/") {
			return "", fmt.Errorf("pkcs11: pin-source %q: only local file: URIs (file:///path) are supported", source)
		}
		path = rest
	} else if rest, ok := strings.CutPrefix(source, "file:"); ok {
		path = rest
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("pkcs11: cannot open the PIN file %q: %w", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPINFileSize+1))
	if err != nil {
		return "", fmt.Errorf("pkcs11: cannot read the PIN file %q: %w", path, unwrapPath(err))
	}
	if len(data) > maxPINFileSize {
		return "", fmt.Errorf("pkcs11: the PIN file %q is larger than %d bytes: not a PIN file", path, maxPINFileSize)
	}
	pin := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if pin == "" {
		return "", fmt.Errorf("pkcs11: the PIN file %q is empty", path)
	}
	return pin, nil
}

// unwrapPath drops the *PathError wrapper, whose text repeats the file name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
