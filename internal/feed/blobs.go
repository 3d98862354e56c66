package feed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/signet-nuget/signet/internal/store"
)

// Blob names. A version's files are stored under names that carry the
// first hashPrefix hex digits of the SHA-512 of its .nupkg as served, which
// its row records: a row names its blobs, and blobs written by a push that
// lost a race or crashed before its commit are named by no row.
//
//	packages/{id}/{version}/{hash}.nupkg
//	packages/{id}/{version}/{hash}.nuspec
//	packages/{id}/{version}/{hash}.readme
//
// with id and version lower-cased (NuGet's flat container convention).
const (
	blobRoot = "packages/"
	// hashPrefix is 160 bits of the SHA-512: two pushes of one version
	// with different bytes never share names.
	hashPrefix = 40
)

// Suffixes of the blobs of a version.
const (
	blobNupkg  = ".nupkg"
	blobNuspec = ".nuspec"
	blobReadme = ".readme"
)

// blobKey returns the name of one file of a version whose .nupkg has the
// SHA-512 sum.
func blobKey(id, version string, sum []byte, suffix string) string {
	return blobRoot + keySegment(id) + "/" + keySegment(version) + "/" +
		hex.EncodeToString(sum)[:hashPrefix] + suffix
}

// keySegment is an id or version as a blob name segment: lower-cased, and
// for the rare id with characters outside ASCII (NuGet allows Unicode
// letters, blob names do not), "~" and a hash of it, which the sweeper
// cannot map back and so leaves alone.
func keySegment(s string) string {
	s = strings.ToLower(s)
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			sum := sha256.Sum256([]byte(s))
			return "~" + hex.EncodeToString(sum[:16])
		}
	}
	return s
}

// parseBlobKey splits a blob name made by blobKey.
func parseBlobKey(key string) (id, version, hash string, ok bool) {
	rest, ok := strings.CutPrefix(key, blobRoot)
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", "", "", false
	}
	hash, _, _ = strings.Cut(parts[2], ".")
	if len(hash) != hashPrefix {
		return "", "", "", false
	}
	return parts[0], parts[1], hash, true
}

// Sweep deletes the blobs that no version names and that the previous
// sweep found unnamed too, and returns how many it deleted. Blobs it finds
// unnamed for the first time are remembered for the next sweep: they may
// belong to a push whose row is about to commit.
func (s *Server) Sweep(ctx context.Context) (int, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	seen := map[string]bool{}
	named := map[string]string{} // id/version -> hex prefix of its row, "" if none
	deleted := 0
	for key, err := range s.blobs.List(ctx, blobRoot) {
		if err != nil {
			return deleted, fmt.Errorf("feed: listing blobs: %w", err)
		}
		id, version, hash, ok := parseBlobKey(key)
		if !ok || strings.HasPrefix(id, "~") {
			continue // not ours, or not mappable to a row: leave it alone
		}
		iv := id + "/" + version
		want, known := named[iv]
		if !known {
			v, err := s.store.Version(ctx, id, version)
			switch {
			case err == nil:
				want = hex.EncodeToString(v.SHA512)[:hashPrefix]
			case errors.Is(err, store.ErrNotFound):
				want = ""
			default:
				return deleted, fmt.Errorf("feed: sweeping: %w", err)
			}
			named[iv] = want
		}
		if hash == want {
			continue
		}
		if s.sweepSeen[key] {
			if err := s.blobs.Delete(ctx, key); err != nil {
				return deleted, fmt.Errorf("feed: deleting unnamed blob: %w", err)
			}
			deleted++
			continue
		}
		seen[key] = true
	}
	s.sweepSeen = seen
	return deleted, nil
}
