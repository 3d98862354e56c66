package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
)

// A Version is one published version of a package: the facts of its nuspec
// that the feed serves without opening the blob, and the facts of its
// signatures.
type Version struct {
	// PackageID is the registration's id (the case of the first push).
	PackageID string
	// Version is the NuGet-normalised version without build metadata
	// ("1.0.0-beta.1"); unique per package ignoring case.
	Version string
	// OriginalVersion is the version as the nuspec writes it.
	OriginalVersion string
	// Listed versions appear in search and as the latest version; unlisted
	// ones stay downloadable. Stored as given: a push sets it.
	Listed bool
	// Published is when the version was pushed; CreateVersion sets it to
	// the current time when zero.
	Published time.Time
	// SHA512 and Size describe the blob as served (after repository
	// signing).
	SHA512     []byte
	Size       int64
	Prerelease bool
	SemVer2    bool
	Title      string
	// Description, Authors and Tags are as in the nuspec; tags are
	// space-separated there and cannot contain spaces.
	Description string
	Authors     string
	Tags        []string
	// PackageTypes names the nuspec's package types; none means Dependency.
	PackageTypes []string
	// DependencyGroups is a JSON array shaped by the feed; nil is stored as
	// [].
	DependencyGroups json.RawMessage
	// Extra is a JSON object of further nuspec facts the feed shows
	// (summary, project URL, licence); nil is stored as {}.
	Extra json.RawMessage
	// SignerSHA256 is the SHA-256 of the certificate of the primary (author)
	// signature, or nil for an unsigned package.
	SignerSHA256 []byte
	// Signature is a JSON object of signature facts shaped by the feed (nil
	// when unsigned), and SignatureStatus its validation and revocation
	// status, also the feed's vocabulary.
	Signature       json.RawMessage
	SignatureStatus string
}

// A VersionRef names a version.
type VersionRef struct {
	PackageID string
	Version   string
}

const (
	sha512Size = 64
	sha256Size = 32
)

// check validates v and fills the defaults that CreateVersion documents.
func (v *Version) check() error {
	switch {
	case v.PackageID == "":
		return invalid("empty package id")
	case v.Version == "" || v.OriginalVersion == "":
		return invalid("package %q: empty version", v.PackageID)
	case len(v.SHA512) != sha512Size:
		return invalid("package %q %s: SHA-512 of %d bytes", v.PackageID, v.Version, len(v.SHA512))
	case v.Size < 0:
		return invalid("package %q %s: negative size", v.PackageID, v.Version)
	case v.SignerSHA256 != nil && len(v.SignerSHA256) != sha256Size:
		return invalid("package %q %s: signer SHA-256 of %d bytes", v.PackageID, v.Version, len(v.SignerSHA256))
	}
	for _, t := range [][]string{v.Tags, v.PackageTypes} {
		for _, w := range t {
			if w == "" || strings.ContainsFunc(w, isSpace) {
				return invalid("package %q %s: tag or package type %q is empty or has spaces", v.PackageID, v.Version, w)
			}
		}
	}
	if v.DependencyGroups == nil {
		v.DependencyGroups = json.RawMessage("[]")
	}
	if v.Extra == nil {
		v.Extra = json.RawMessage("{}")
	}
	for _, j := range []json.RawMessage{v.DependencyGroups, v.Extra, v.Signature} {
		if j != nil && !json.Valid(j) {
			return invalid("package %q %s: malformed JSON", v.PackageID, v.Version)
		}
	}
	return nil
}

// fields splits a space-separated column; an empty one is nil, as a
// version without tags was given.
func fields(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// searchText is what search terms are matched against.
func (v *Version) searchText() string {
	return fold(strings.Join([]string{v.PackageID, v.Title, v.Description, strings.Join(v.Tags, " ")}, "\n"))
}

// CreateVersion records a new version, pushed on the authority of owner
// (the account id the caller has authorised; 0 for none, such as an
// administrative import).
//
// If the package id is not registered yet and owner is not 0, the
// registration is created in the same transaction with owner as its only
// owner (the first push claims the id), unless the id falls under an ID
// prefix reservation that owner does not own: ErrReserved. If the id is
// registered, owner must be one of its owners: ErrNotOwner. With owner 0 the
// id must be registered: ErrNotFound.
//
// If the version exists already (ignoring case), CreateVersion returns
// ErrConflict and changes nothing; of concurrent calls for one version,
// exactly one succeeds. Malformed fields are ErrInvalid.
//
// It returns the version as stored.
func (s *Store) CreateVersion(ctx context.Context, owner int64, v Version) (Version, error) {
	v.SHA512 = slices.Clone(v.SHA512)
	if err := v.check(); err != nil {
		return Version{}, err
	}
	if v.Published.IsZero() {
		v.Published = s.clock()
	}
	v.Published = v.Published.UTC().Truncate(time.Microsecond)
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := s.registration(ctx, tx, v.PackageID, owner)
		if err != nil {
			return err
		}
		v.PackageID = p.id
		var sig sql.NullString
		if v.Signature != nil {
			sig = sql.NullString{String: string(v.Signature), Valid: true}
		}
		var row int64
		err = tx.QueryRowContext(ctx, `INSERT INTO versions (pkg, version, version_key, original_version, listed,
			published_at, sha512, size, prerelease, semver2, title, description, authors, tags, package_types,
			dependency_groups, extra, search_text, signer_sha256, signature, signature_status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
			ON CONFLICT (pkg, version_key) DO NOTHING RETURNING id`,
			p.row, v.Version, fold(v.Version), v.OriginalVersion, v.Listed,
			micros(v.Published), v.SHA512, v.Size, v.Prerelease, v.SemVer2, v.Title, v.Description, v.Authors,
			strings.Join(v.Tags, " "), strings.Join(v.PackageTypes, " "),
			string(v.DependencyGroups), string(v.Extra), v.searchText(), v.SignerSHA256, sig, v.SignatureStatus).Scan(&row)
		if err != nil {
			return conflictIfNoRows(err, "package %q version %q exists", p.id, v.Version)
		}
		return nil
	})
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// registration finds or, for a first push, creates the registration that a
// version of id is pushed to on owner's authority, as CreateVersion
// describes.
func (s *Store) registration(ctx context.Context, tx *sql.Tx, id string, owner int64) (pkgRow, error) {
	p, err := s.claim(ctx, tx, id, owner)
	if isNoRows(err) {
		// Another transaction registered the id since we looked (possible
		// where writers run concurrently, as on PostgreSQL); its owners
		// decide.
		p, err = s.claim(ctx, tx, id, owner)
	}
	if isNoRows(err) {
		return pkgRow{}, dbErr("creating package", err)
	}
	return p, err
}

// claim is one attempt of registration; it returns sql.ErrNoRows if the id
// was registered concurrently.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, id string, owner int64) (pkgRow, error) {
	p, err := s.lockPackage(ctx, tx, id)
	if err == nil {
		if owner != 0 {
			err = s.checkOwner(ctx, tx, p, owner)
		}
		return p, err
	}
	if !isNotFound(err) || owner == 0 {
		return pkgRow{}, err
	}
	if _, err := s.findAccount(ctx, tx, owner, "", false); err != nil {
		return pkgRow{}, err
	}
	if err := s.checkReservations(ctx, tx, id, owner); err != nil {
		return pkgRow{}, err
	}
	now := micros(s.clock())
	err = tx.QueryRowContext(ctx, `INSERT INTO packages (package_id, package_id_key, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (package_id_key) DO NOTHING RETURNING id`, id, fold(id), now).Scan(&p.row)
	if isNoRows(err) {
		return pkgRow{}, err
	}
	if err != nil {
		return pkgRow{}, dbErr("creating package", err)
	}
	p.id = id
	if _, err := tx.ExecContext(ctx, `INSERT INTO package_owners (pkg, account_id, created_at) VALUES ($1, $2, $3)`,
		p.row, owner, now); err != nil {
		return pkgRow{}, dbErr("adding owner", err)
	}
	return p, nil
}

const versionColumns = `p.package_id, v.version, v.original_version, v.listed, v.published_at, v.sha512, v.size,
	v.prerelease, v.semver2, v.title, v.description, v.authors, v.tags, v.package_types, v.dependency_groups,
	v.extra, v.signer_sha256, v.signature, v.signature_status`

func scanVersion(row interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var published int64
	var tags, types, deps, extra string
	var sig sql.NullString
	err := row.Scan(&v.PackageID, &v.Version, &v.OriginalVersion, &v.Listed, &published, &v.SHA512, &v.Size,
		&v.Prerelease, &v.SemVer2, &v.Title, &v.Description, &v.Authors, &tags, &types, &deps,
		&extra, &v.SignerSHA256, &sig, &v.SignatureStatus)
	if err != nil {
		return Version{}, err
	}
	v.Published = fromMicros(published)
	v.Tags = fields(tags)
	v.PackageTypes = fields(types)
	v.DependencyGroups = json.RawMessage(deps)
	v.Extra = json.RawMessage(extra)
	if sig.Valid {
		v.Signature = json.RawMessage(sig.String)
	}
	return v, nil
}

// Version returns one version of a package, both named ignoring case, or
// ErrNotFound.
func (s *Store) Version(ctx context.Context, id, version string) (Version, error) {
	v, err := scanVersion(s.r.QueryRowContext(ctx, `SELECT `+versionColumns+`
		FROM versions v JOIN packages p ON p.id = v.pkg
		WHERE p.package_id_key = $1 AND v.version_key = $2`, fold(id), fold(version)))
	if err != nil {
		return Version{}, notFound(err, "package %q version %q", id, version)
	}
	return v, nil
}

// Versions returns every version of a package, listed or not, in NuGet's
// version order (oldest first). It returns ErrNotFound if the id is not
// registered.
func (s *Store) Versions(ctx context.Context, id string) ([]Version, error) {
	var out []Version
	err := s.read(ctx, func(tx *sql.Tx) error {
		var row int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM packages WHERE package_id_key = $1`, fold(id)).Scan(&row)
		if err != nil {
			return notFound(err, "package %q", id)
		}
		out, err = s.versions(ctx, tx, `WHERE v.pkg = $1`, row)
		return err
	})
	return out, err
}

// versions loads the versions that where selects (a WHERE clause over
// versions v), sorted by package and then NuGet version order.
func (s *Store) versions(ctx context.Context, q querier, where string, args ...any) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+versionColumns+`
		FROM versions v JOIN packages p ON p.id = v.pkg `+where, args...)
	if err != nil {
		return nil, dbErr("reading versions", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, dbErr("reading versions", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading versions", err)
	}
	sortVersions(out)
	return out, nil
}

// sortVersions orders versions by package id, then in NuGet's order; a
// version string that does not parse (the store does not validate them)
// sorts after those that do, by its text.
func sortVersions(vs []Version) {
	type parsed struct {
		v  nuget.Version
		ok bool
	}
	ps := make(map[string]parsed, len(vs))
	for _, v := range vs {
		nv, err := nuget.ParseVersion(v.Version)
		ps[v.Version] = parsed{nv, err == nil}
	}
	slices.SortStableFunc(vs, func(a, b Version) int {
		if c := cmp.Compare(fold(a.PackageID), fold(b.PackageID)); c != 0 {
			return c
		}
		pa, pb := ps[a.Version], ps[b.Version]
		switch {
		case pa.ok && pb.ok:
			return nuget.Compare(pa.v, pb.v)
		case pa.ok:
			return -1
		case pb.ok:
			return 1
		}
		return cmp.Compare(a.Version, b.Version)
	})
}

// SetListed lists or unlists a version. It returns ErrNotFound if the
// version does not exist.
func (s *Store) SetListed(ctx context.Context, id, version string, listed bool) error {
	return s.updateVersion(ctx, id, version, `listed = $3`, listed)
}

// SetSignatureStatus records a new validation or revocation status of a
// version's signatures and, when facts is not nil, replaces the signature
// facts. It returns ErrNotFound if the version does not exist.
func (s *Store) SetSignatureStatus(ctx context.Context, id, version, status string, facts json.RawMessage) error {
	if facts == nil {
		return s.updateVersion(ctx, id, version, `signature_status = $3`, status)
	}
	if !json.Valid(facts) {
		return invalid("package %q %s: malformed signature JSON", id, version)
	}
	return s.updateVersion(ctx, id, version, `signature_status = $3, signature = $4`, status, string(facts))
}

func (s *Store) updateVersion(ctx context.Context, id, version, set string, values ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE versions SET `+set+`
			WHERE pkg = (SELECT id FROM packages WHERE package_id_key = $1) AND version_key = $2`,
			append([]any{fold(id), fold(version)}, values...)...)
		if err != nil {
			return dbErr("updating version", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("updating version", err)
		} else if n == 0 {
			return fmt.Errorf("%w: package %q version %q", ErrNotFound, id, version)
		}
		return nil
	})
}

// VersionsSignedBy returns the versions whose primary signature was made
// with the certificate of the given SHA-256, ordered by id and version (for
// the revocation job).
func (s *Store) VersionsSignedBy(ctx context.Context, sha256 []byte) ([]VersionRef, error) {
	vs, err := s.versions(ctx, s.r, `WHERE v.signer_sha256 = $1`, sha256)
	if err != nil {
		return nil, err
	}
	out := make([]VersionRef, len(vs))
	for i, v := range vs {
		out[i] = VersionRef{PackageID: v.PackageID, Version: v.Version}
	}
	return out, nil
}
