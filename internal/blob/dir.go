package blob

import (
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	// tempDirName is the folder under the root that holds Puts in progress.
	// Keys cannot start with '.', so it never collides with an object, and it
	// sits on the same file system as the objects, so the final rename is
	// atomic.
	tempDirName = ".tmp"
	// staleTempAge is how old a temporary file must be before NewDir deletes
	// it as the leftover of a crashed Put. Several processes may share a
	// directory, so a younger file may belong to a Put still running; no
	// upload takes a day.
	staleTempAge = 24 * time.Hour
	// copyBufferSize is the chunk in which Put copies; between chunks it
	// checks the context. 256 KiB keeps a multi-megabyte package to a few
	// dozen write calls.
	copyBufferSize = 256 << 10
	filePerm       = 0o644
	dirPerm        = 0o755
)

// Dir is a [Store] in a local directory: the object under key "a/b/c" is the
// file root/a/b/c. A Put writes to a temporary file under root/.tmp, syncs
// it, renames it into place and syncs the directory, so the object appears
// whole or not at all and is durable when Put returns.
//
// One exception to the Store contract, which no local file system lets us
// avoid: if syncing the directory fails after the rename, Put reports the
// error although the object is already visible (and not known to be
// durable).
type Dir struct {
	root string
	tmp  string
}

var _ Store = (*Dir)(nil)

// NewDir returns a Dir rooted at root, creating the directory if needed, and
// deletes temporary files older than a day that crashed Puts left behind.
func NewDir(root string) (*Dir, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	d := &Dir{root: abs, tmp: filepath.Join(abs, tempDirName)}
	if err := os.MkdirAll(d.tmp, dirPerm); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	if err := d.removeStaleTemps(time.Now().Add(-staleTempAge)); err != nil {
		return nil, err
	}
	return d, nil
}

// Root returns the absolute path of the directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) removeStaleTemps(before time.Time) error {
	ents, err := os.ReadDir(d.tmp)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(d.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: removing stale temporary file: %w", err)
		}
	}
	return nil
}

func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// Put implements [Store.Put].
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (size int64, sum []byte, err error) {
	if err := ValidateKey(key); err != nil {
		return 0, nil, err
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	f, err := os.CreateTemp(d.tmp, "put-*")
	if err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()

	h := sha512.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), ctxReader{ctx, r}, make([]byte, copyBufferSize))
	if err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := f.Chmod(filePerm); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}

	final := d.path(key)
	created, err := d.mkdirAll(filepath.Dir(final))
	if err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	// The last point at which a cancelled Put can still leave nothing.
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
	}
	renamed = true
	// The rename is durable once the directory holding the new name is
	// synced, and each directory created for it once its parent is.
	dirs := append([]string{filepath.Dir(final)}, parents(created)...)
	for _, dir := range dirs {
		if err := syncDir(dir); err != nil {
			return 0, nil, fmt.Errorf("blob: put %q: %w", key, err)
		}
	}
	return n, h.Sum(nil), nil
}

// mkdirAll creates dir and its missing parents below the root and returns
// the directories it tried to create, top first. A directory that another
// Put created meanwhile is returned too: its parent may not be synced yet.
func (d *Dir) mkdirAll(dir string) ([]string, error) {
	var missing []string
	for p := dir; p != d.root; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		missing = append(missing, p)
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		created = append(created, missing[i])
	}
	return created, nil
}

func parents(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = filepath.Dir(d)
	}
	return out
}

// syncDir makes the entries of dir (a rename, a new subdirectory, a removal)
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		// EINVAL: the file system cannot sync directories (some network
		// and FUSE file systems); there is nothing more we can do.
		return err
	}
	return nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open implements [Store.Open]. The returned object is the open file, so it
// keeps reading the bytes it was opened on even if the key is replaced or
// deleted meanwhile.
func (d *Dir) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		if missing(err) {
			return nil, fmt.Errorf("%w: %q", ErrNotExist, key)
		}
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %q", ErrNotExist, key)
	}
	return &file{File: f, size: info.Size()}, nil
}

type file struct {
	*os.File
	size int64
}

func (f *file) Size() int64 { return f.size }

// missing reports whether err means that no file is at the path, including
// the case where a parent is a file ("a" exists and "a/b" is asked for).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Exists implements [Store.Exists].
func (d *Dir) Exists(ctx context.Context, key string) (bool, error) {
	if err := ValidateKey(key); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("blob: exists %q: %w", key, err)
	}
	info, err := os.Stat(d.path(key))
	if err != nil {
		if missing(err) {
			return false, nil
		}
		return false, fmt.Errorf("blob: exists %q: %w", key, err)
	}
	return info.Mode().IsRegular(), nil
}

// Delete implements [Store.Delete]. Empty folders are left in place: removing
// them would race with a Put that has just created one.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	p := d.path(key)
	info, err := os.Lstat(p)
	if err != nil {
		if missing(err) {
			return nil
		}
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	if err := os.Remove(p); err != nil && !missing(err) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// List implements [Store.List]. It walks only the folder that the prefix
// names up to its last '/'.
func (d *Dir) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := validatePrefix(prefix); err != nil {
			yield("", err)
			return
		}
		start := d.root
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			start = d.path(prefix[:i])
		}
		err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == start && missing(err) {
					return filepath.SkipAll
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if p == start {
				return nil
			}
			if strings.HasPrefix(e.Name(), ".") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			rel, err := filepath.Rel(d.root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if e.IsDir() {
				// Skip folders that cannot contain a match.
				if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
				return nil
			}
			if !yield(key, nil) {
				return filepath.SkipAll
			}
			return nil
		})
		if err != nil {
			yield("", fmt.Errorf("blob: list %q: %w", prefix, err))
		}
	}
}
