package revocation

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/cryptobyte"

	"github.com/signet-nuget/signet/internal/atomicfile"
)

// The on-disk cache is a flat directory of files named after what they
// answer for:
//
//	ocsp-<hex SHA-256 of the issuer's name and key and the serial>.der
//	crl-<hex SHA-256 of the distribution point URL>.crl
//
// holding the DER response or CRL exactly as received. A file is written
// atomically (temporary file, then rename), only when its content verified
// and has a nextUpdate, and is verified again against the issuer every time
// it is read: the directory may be shared or tampered with.
const (
	ocspFilePrefix = "ocsp-"
	ocspFileExt    = ".der"
	crlFilePrefix  = "crl-"
	crlFileExt     = ".crl"
	// cacheFilePerm: revocation data is public.
	cacheFilePerm = 0o644
	cacheDirPerm  = 0o755
)

// certKey identifies cert issued by issuer: the issuer's name, its public
// key and the serial number, the three things a CertID names. It keys the
// memory cache, shared lookups and the OCSP cache files.
func certKey(cert, issuer *x509.Certificate) string {
	var b cryptobyte.Builder
	for _, part := range [][]byte{issuer.RawSubject, issuer.RawSubjectPublicKeyInfo, cert.SerialNumber.Bytes()} {
		b.AddUint32LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(part) })
	}
	if cert.SerialNumber.Sign() < 0 {
		b.AddUint8('-')
	}
	sum := sha256.Sum256(b.BytesOrPanic())
	return hex.EncodeToString(sum[:])
}

// urlKey identifies a CRL distribution point.
func urlKey(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

func (c *Checker) ocspPath(key string) string {
	return filepath.Join(c.CacheDir, ocspFilePrefix+key+ocspFileExt)
}

func (c *Checker) crlPath(u string) string {
	return filepath.Join(c.CacheDir, crlFilePrefix+urlKey(u)+crlFileExt)
}

// readCacheFile reads a cache or bundle file of at most limit bytes. A
// missing file gives an error satisfying errors.Is(err, fs.ErrNotExist).
func readCacheFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, fmt.Errorf("%w: %q is larger than %d bytes", ErrTooLarge, path, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("revocation: reading %q: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %q is larger than %d bytes", ErrTooLarge, path, limit)
	}
	return b, nil
}

// writeCacheFile stores b at path atomically, creating the cache directory
// if needed.
func writeCacheFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), cacheDirPerm); err != nil {
		return fmt.Errorf("revocation: cache directory: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, cacheFilePerm); err != nil {
		return fmt.Errorf("revocation: writing cache file %q: %w", path, err)
	}
	return nil
}

// cacheFileKind tells an OCSP cache file from a CRL one by its name; ok is
// false for anything else (temporary files of atomic writes included).
func cacheFileKind(name string) (s Source, ok bool) {
	switch {
	case strings.HasPrefix(name, ocspFilePrefix) && strings.HasSuffix(name, ocspFileExt):
		return SourceOCSP, true
	case strings.HasPrefix(name, crlFilePrefix) && strings.HasSuffix(name, crlFileExt):
		return SourceCRL, true
	}
	return SourceNone, false
}
