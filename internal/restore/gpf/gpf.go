// Package gpf installs packages into NuGet's global packages folder, in
// exactly the layout NuGet reads and writes:
//
//	<root>/<id lower-case>/<version normalised, lower-case>/
//	    <id>.<version>.nupkg          the package file as downloaded
//	    <id>.<version>.nupkg.sha512   base64 SHA-512 of that file
//	    <id>.nuspec                   the manifest, as stored in the package
//	    .nupkg.metadata               {"version": 2, "contentHash", "source"}
//	    lib/…, .signature.p7s, …      the extracted files
//
// with every file name above lower-case. contentHash is the base64 SHA-512
// of the package without its signature for a signed package (so that
// repository signing does not change it), of the whole file otherwise; it
// is what lock files record. .nupkg.metadata is NuGet's completion marker:
// a folder without it is not installed.
//
// # Contract
//
// Install calls the caller's verification on the opened package before it
// writes a single byte; a package that fails it leaves nothing on disk.
// Extraction happens in a fresh directory of its own beside the target, which
// is renamed into place only when complete, so no reader, in this process
// or another (Signet or NuGet), ever sees a half-installed version; when
// two installers race, the first rename wins and the others keep it.
//
// # Threat model
//
// Package bytes are untrusted until verified, and entry names stay
// untrusted after (a signed package may still be hostile). Every name is
// checked before anything is written (entryPath: no escape from the
// folder, no names that alias on Windows or macOS, no device names), files
// are created through an os.Root on the private directory (so nothing is
// written through a symbolic link, none of which this package creates),
// with modes 0644 and 0755 whatever the zip says, and the total expansion is
// bounded by MaxExtractedSize, each entry by its declared size.
package gpf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/nupkg"
)

// Names and bounds.
const (
	// MetadataFile is the completion marker NuGet writes last.
	MetadataFile = ".nupkg.metadata"
	// metadataVersion is the .nupkg.metadata format NuGet writes.
	metadataVersion = 2
	// MaxExtractedSize bounds the bytes one package may extract. The
	// largest packages on nuget.org are limited to 250 MB compressed and
	// expand to about 1 GiB; 8 GiB leaves room for private feeds while
	// keeping a zip bomb from filling the disk.
	MaxExtractedSize = 8 << 30
	// maxMetadataSize bounds a .nupkg.metadata file read back (about 200
	// bytes when NuGet or Signet wrote it).
	maxMetadataSize = 64 << 10
	// renameTries bounds the attempts to move a finished folder into place
	// when stale folders are in the way.
	renameTries = 3
	dirMode     = 0o755
	fileMode    = 0o644
)

// VerifyFunc judges an opened package before anything is extracted; a
// non-nil error refuses it.
type VerifyFunc func(*nupkg.Package) error

// Result says what Install did.
type Result struct {
	// ID is the id as the manifest spells it; Version the normalised
	// version.
	ID, Version string
	// Dir is the version folder.
	Dir string
	// Installed is false when the folder was complete already (nothing was
	// verified or written).
	Installed bool
	// ContentHash is the folder's contentHash.
	ContentHash string
}

// Metadata is a .nupkg.metadata file.
type Metadata struct {
	Version     int    `json:"version"`
	ContentHash string `json:"contentHash"`
	Source      string `json:"source,omitempty"`
}

// VersionDir returns the version folder of id and version under root.
func VersionDir(root, id, version string) (string, error) {
	lid, lver, err := names(id, version)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, lid, lver), nil
}

// names returns the lower-case id and normalised lower-case version.
func names(id, version string) (string, string, error) {
	if !nuget.ValidID(id) {
		return "", "", fmt.Errorf("gpf: %q is not a valid package id", id)
	}
	v, err := nuget.ParseVersion(version)
	if err != nil {
		return "", "", fmt.Errorf("gpf: %w", err)
	}
	return strings.ToLower(id), strings.ToLower(v.String()), nil
}

// Exists reports whether id and version are installed under root: whether
// the version folder has its .nupkg.metadata marker.
func Exists(root, id, version string) bool {
	dir, err := VersionDir(root, id, version)
	if err != nil {
		return false
	}
	return isMarker(filepath.Join(dir, MetadataFile))
}

func isMarker(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// ReadMetadata reads the .nupkg.metadata of an installed version.
func ReadMetadata(root, id, version string) (*Metadata, error) {
	dir, err := VersionDir(root, id, version)
	if err != nil {
		return nil, err
	}
	return readMetadata(filepath.Join(dir, MetadataFile))
}

func readMetadata(p string) (*Metadata, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("gpf: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("gpf: %w", err)
	}
	if len(b) > maxMetadataSize {
		return nil, fmt.Errorf("gpf: %s is larger than %d bytes", f.Name(), maxMetadataSize)
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("gpf: %s: %w", f.Name(), err)
	}
	return &m, nil
}

// Install installs the package file at pkgPath under root, recording
// source (a URL or folder, may be empty) in its metadata. Its identity
// comes from its manifest; see InstallAs to require one.
func Install(ctx context.Context, root, pkgPath string, verify VerifyFunc, source string) (*Result, error) {
	return InstallAs(ctx, root, pkgPath, "", "", verify, source)
}

// InstallAs is Install for a package that must be id and version (a
// different manifest is refused before verification); empty id and
// version accept any.
//
// When the version is installed already, InstallAs returns at once with
// Installed false, as NuGet does. Otherwise it opens the package, checks
// its manifest, calls verify (which must not be nil) and, only if verify
// returns nil, checks every entry name and the total size, extracts into a
// new directory in <root>/<id>/ and renames it into place. On any error
// nothing of the package stays on disk. pkgPath must not change during the
// call.
func InstallAs(ctx context.Context, root, pkgPath, id, version string, verify VerifyFunc, source string) (*Result, error) {
	if verify == nil {
		return nil, errors.New("gpf: no verification function")
	}
	f, err := os.Open(pkgPath)
	if err != nil {
		return nil, fmt.Errorf("gpf: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gpf: %w", err)
	}
	pkg, err := nupkg.Open(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("gpf: %s: %w", pkgPath, err)
	}
	ns, err := pkg.Nuspec()
	if err != nil {
		return nil, fmt.Errorf("gpf: %s: %w", pkgPath, err)
	}
	if id != "" || version != "" {
		if err := sameIdentity(ns, id, version); err != nil {
			return nil, err
		}
	}
	lid, lver, err := names(ns.ID, ns.Version)
	if err != nil {
		return nil, err
	}
	res := &Result{ID: ns.ID, Version: ns.Version, Dir: filepath.Join(root, lid, lver)}
	if complete(res) {
		return res, nil
	}
	unlock := lockPath(res.Dir)
	defer unlock()
	if complete(res) {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gpf: %w", err)
	}

	if err := verify(pkg); err != nil {
		return nil, fmt.Errorf("gpf: %s %s: %w", ns.ID, ns.Version, err)
	}
	plan, err := planExtraction(pkg, lid+"."+lver+".nupkg.sha512")
	if err != nil {
		return nil, fmt.Errorf("gpf: %s %s: %w", ns.ID, ns.Version, err)
	}
	w := &writer{ctx: ctx, pkg: pkg, file: f, size: fi.Size(), lid: lid, lver: lver, source: source}
	if err := w.install(root, plan, res); err != nil {
		return nil, fmt.Errorf("gpf: %s %s: %w", ns.ID, ns.Version, err)
	}
	return res, nil
}

// complete fills res from an installed version's metadata and reports
// whether it is installed.
func complete(res *Result) bool {
	if !isMarker(filepath.Join(res.Dir, MetadataFile)) {
		return false
	}
	res.Installed = false
	if m, err := readMetadata(filepath.Join(res.Dir, MetadataFile)); err == nil {
		res.ContentHash = m.ContentHash
	}
	return true
}

// sameIdentity checks a manifest against the identity asked for (id
// ignoring case, versions by NuGet's comparison).
func sameIdentity(ns *nupkg.Nuspec, id, version string) error {
	if id != "" && !strings.EqualFold(ns.ID, id) {
		return fmt.Errorf("gpf: the package is %s %s, not %s", ns.ID, ns.Version, id)
	}
	if version == "" {
		return nil
	}
	want, err := nuget.ParseVersion(version)
	if err != nil {
		return fmt.Errorf("gpf: %w", err)
	}
	got, err := nuget.ParseVersion(ns.Version)
	if err != nil || !got.Equal(want) {
		return fmt.Errorf("gpf: the package is %s %s, not version %s", ns.ID, ns.Version, want)
	}
	return nil
}

// maxExtracted is MaxExtractedSize; tests lower it.
var maxExtracted uint64 = MaxExtractedSize

// locks serialises installs of one folder within the process, so that
// concurrent installs of the same package do the work once. Across
// processes the final rename decides.
var (
	locks         sync.Map // folder → *sync.Mutex
	inProcessLock = true   // tests turn it off to exercise the rename race
)

func lockPath(p string) func() {
	if !inProcessLock {
		return func() {}
	}
	m, _ := locks.LoadOrStore(p, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// file is one entry to extract.
type file struct {
	entry *nupkg.Entry
	rel   string
}

// planExtraction checks every entry and returns those to extract, refusing
// the package for an unsafe name, two entries that would be the same file
// (also on a case-insensitive file system), a file where another needs a
// directory, or a total above MaxExtractedSize.
func planExtraction(pkg *nupkg.Package, hashFile string) ([]file, error) {
	entries := pkg.Entries()
	var plan []file
	files := map[string]string{} // lower-case path → entry name
	dirs := map[string]bool{}    // lower-case directories
	var total uint64
	for i := range entries {
		e := &entries[i]
		rel, isDir, err := entryPath(e.Name)
		if err != nil {
			return nil, err
		}
		if isDir || !extracted(rel, hashFile) {
			continue
		}
		key := strings.ToLower(rel)
		if prev, dup := files[key]; dup {
			return nil, fmt.Errorf("%w: entries %q and %q are the same file", errUnsafeName, prev, e.Name)
		}
		files[key] = e.Name
		for d := key; ; {
			i := strings.LastIndexByte(d, '/')
			if i < 0 {
				break
			}
			d = d[:i]
			dirs[d] = true
		}
		if e.UncompressedSize > maxExtracted || total+e.UncompressedSize > maxExtracted {
			return nil, fmt.Errorf("the package expands to more than %d bytes", maxExtracted)
		}
		total += e.UncompressedSize
		plan = append(plan, file{entry: e, rel: rel})
	}
	for key, name := range files {
		if dirs[key] {
			return nil, fmt.Errorf("%w: %q is a file and a directory", errUnsafeName, name)
		}
	}
	return plan, nil
}

// writer extracts one package.
type writer struct {
	ctx       context.Context
	pkg       *nupkg.Package
	file      *os.File
	size      int64
	lid, lver string
	source    string
	tmp       string
	root      *os.Root
}

// install extracts into a new directory beside the target and renames
// it into place; on error it removes everything it made.
func (w *writer) install(root string, plan []file, res *Result) (err error) {
	idDir := filepath.Join(root, w.lid)
	if err := os.MkdirAll(idDir, dirMode); err != nil {
		return err
	}
	tmp, err := mkdirPrivate(idDir, ".signet-"+w.lver+"-")
	if errors.Is(err, fs.ErrNotExist) {
		// A failing installer of another version removed the empty id
		// folder between the two calls.
		if err = os.MkdirAll(idDir, dirMode); err == nil {
			tmp, err = mkdirPrivate(idDir, ".signet-"+w.lver+"-")
		}
	}
	if err != nil {
		return err
	}
	w.tmp = tmp
	defer func() {
		if w.root != nil {
			w.root.Close()
		}
		if err != nil {
			os.RemoveAll(tmp)
			os.Remove(idDir) // only if empty: other versions stay
		}
	}()
	if w.root, err = os.OpenRoot(tmp); err != nil {
		return err
	}
	for _, f := range plan {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if err := w.extract(f); err != nil {
			return err
		}
	}
	if err := w.writeFiles(res); err != nil {
		return err
	}
	w.root.Close()
	w.root = nil
	return w.moveIntoPlace(res)
}

// mkdirPrivate makes a new directory in dir with a random name that starts
// with prefix and is not a version (so NuGet ignores it). Its mode is
// dirMode (less the umask) from the start, as it becomes the version folder
// as it is; no one else can write into it.
func mkdirPrivate(dir, prefix string) (string, error) {
	for range 10 {
		p := filepath.Join(dir, prefix+rand.Text()[:16])
		err := os.Mkdir(p, dirMode)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("could not create a temporary directory in %s", dir)
}

// extract writes one entry.
func (w *writer) extract(f file) error {
	if dir := filepath.Dir(filepath.FromSlash(f.rel)); dir != "." {
		if err := w.root.MkdirAll(dir, dirMode); err != nil {
			return err
		}
	}
	src, err := w.pkg.OpenEntry(f.entry.Name)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := w.create(filepath.FromSlash(f.rel), src); err != nil {
		return fmt.Errorf("extracting %q: %w", f.entry.Name, err)
	}
	if t := f.entry.Modified(); t.Year() >= 1980 && !t.After(time.Now()) {
		w.root.Chtimes(filepath.FromSlash(f.rel), t, t) // as NuGet, a time that cannot be set is ignored
	}
	return nil
}

// create writes a new file (never through an existing one) from r.
func (w *writer) create(rel string, r io.Reader) error {
	out, err := w.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, &ctxReader{ctx: w.ctx, r: r}); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeFiles writes the package file, the manifest, the hash and, last, the
// metadata marker.
func (w *writer) writeFiles(res *Result) error {
	h := sha512.New()
	nupkgName := w.lid + "." + w.lver + ".nupkg"
	if err := w.create(nupkgName, io.TeeReader(io.NewSectionReader(w.file, 0, w.size), h)); err != nil {
		return err
	}
	fileHash := base64.StdEncoding.EncodeToString(h.Sum(nil))

	nuspec, err := w.nuspecBytes()
	if err != nil {
		return err
	}
	if err := w.create(w.lid+".nuspec", bytes.NewReader(nuspec)); err != nil {
		return err
	}
	if err := w.create(nupkgName+".sha512", strings.NewReader(fileHash)); err != nil {
		return err
	}
	contentHash := fileHash
	if w.pkg.IsSigned() {
		if sum, err := w.pkg.HashUnsigned(crypto.SHA512); err == nil {
			contentHash = base64.StdEncoding.EncodeToString(sum)
		}
	}
	res.ContentHash = contentHash
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Metadata{Version: metadataVersion, ContentHash: contentHash, Source: w.source}); err != nil {
		return err
	}
	return w.create(MetadataFile, bytes.NewReader(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
}

// nuspecBytes returns the manifest entry's bytes as stored: the one .nuspec
// at the archive root (pkg.Nuspec has checked there is exactly one).
func (w *writer) nuspecBytes() ([]byte, error) {
	for _, e := range w.pkg.Entries() {
		if strings.ContainsAny(e.Name, `/\`) || !hasSuffixFold(e.Name, ".nuspec") {
			continue
		}
		if e.UncompressedSize > nupkg.MaxNuspecSize {
			return nil, fmt.Errorf("the manifest is larger than %d bytes", nupkg.MaxNuspecSize)
		}
		rc, err := w.pkg.OpenEntry(e.Name)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	return nil, errors.New("the package has no manifest")
}

// moveIntoPlace renames the private directory to the version folder. If
// the folder exists and is complete, another installer won: its folder
// stays and ours goes. If it exists without its marker, it is what a
// crashed install left: it is moved aside and removed, as NuGet cleans such
// a folder.
func (w *writer) moveIntoPlace(res *Result) error {
	for range renameTries {
		err := os.Rename(w.tmp, res.Dir)
		if err == nil {
			res.Installed = true
			return nil
		}
		if isMarker(filepath.Join(res.Dir, MetadataFile)) {
			os.RemoveAll(w.tmp)
			complete(res)
			return nil
		}
		if _, serr := os.Lstat(res.Dir); serr != nil {
			if errors.Is(serr, fs.ErrNotExist) {
				continue // moved away meanwhile: try again
			}
			return err
		}
		trash, terr := os.MkdirTemp(filepath.Dir(res.Dir), ".signet-stale-*")
		if terr != nil {
			return err
		}
		if rerr := os.Rename(res.Dir, filepath.Join(trash, "old")); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			os.Remove(trash)
			return fmt.Errorf("an incomplete folder %s is in the way: %w", res.Dir, rerr)
		}
		os.RemoveAll(trash)
	}
	return fmt.Errorf("could not move the package into %s", res.Dir)
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
