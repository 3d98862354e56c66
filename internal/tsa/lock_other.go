//go:build !unix

package tsa

// lockFile is a no-op where flock is not available: one serial file must
// then serve one process by convention.
func lockFile(path string) (unlock func(), err error) {
	return func() {}, nil
}
