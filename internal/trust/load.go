package trust

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// settingsFileNames are the names NuGet looks for in each directory, in its
// order of preference; the first that exists is used.
var settingsFileNames = []string{"nuget.config", "NuGet.config", "NuGet.Config"}

// userConfigName is the user-level file's name.
const userConfigName = "NuGet.Config"

// Where a file sits in the hierarchy.
const (
	levelDirectory  = "directory"
	levelUser       = "user"
	levelAdditional = "user (additional, read-only)"
	levelMachine    = "machine-wide (read-only)"
	levelExplicit   = "configfile"
)

// configFile is one file of the hierarchy.
type configFile struct {
	path     string
	level    string
	readOnly bool
	doc      *document // nil while the file does not exist
	perm     fs.FileMode
	dirty    bool
}

// Loader finds and reads nuget.config files. The zero value reads the
// process environment.
type Loader struct {
	// Getenv reads environment variables; nil means os.Getenv. The loader
	// reads HOME and DOTNET_CLI_HOME (the user config on Linux and macOS),
	// APPDATA and ProgramFiles(x86) (Windows), NUGET_COMMON_APPLICATION_DATA
	// (the machine-wide directory on Linux) and, later,
	// NUGET_CERT_REVOCATION_MODE.
	Getenv func(string) string
}

// Load reads the nuget.config files that apply to dir, as the NuGet client
// finds them, from the closest (highest priority) to the furthest:
//
//  1. walking up from dir to the file-system root, in each directory the
//     first of nuget.config, NuGet.config, NuGet.Config that exists;
//  2. the user config: ~/.nuget/NuGet/NuGet.Config on Linux and macOS
//     ($DOTNET_CLI_HOME replaces ~ when set), %APPDATA%\NuGet\NuGet.Config on
//     Windows;
//  3. the additional user configs ~/.nuget/NuGet/config/*.config, in name
//     order (read-only);
//  4. the machine-wide configs in /etc/opt/NuGet/Config (Linux;
//     $NUGET_COMMON_APPLICATION_DATA replaces /etc/opt),
//     /Library/Application Support/NuGet/Config (macOS),
//     %ProgramFiles(x86)%\NuGet\Config (Windows) (read-only).
//
// A missing file is skipped; a malformed one is an error (*ConfigError).
// Unlike NuGet, Load never creates the user config; Save does when an entry
// must be written and no other file is writable.
func Load(dir string) (*Config, error) { return Loader{}.Load(dir) }

// LoadFile reads only the file at path, as NuGet does for --configfile:
// neither the directory walk nor the user and machine-wide files apply. The
// file must exist.
func LoadFile(path string) (*Config, error) { return Loader{}.LoadFile(path) }

func (l Loader) getenv(k string) string {
	if l.Getenv != nil {
		return l.Getenv(k)
	}
	return os.Getenv(k)
}

// Load is the package-level Load with l's environment.
func (l Loader) Load(dir string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("trust: %q is not a directory", abs)
	}
	var files []*configFile
	for d := abs; ; d = filepath.Dir(d) {
		for _, name := range settingsFileNames {
			p := filepath.Join(d, name)
			if isFile(p) {
				files = append(files, &configFile{path: p, level: levelDirectory})
				break
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	var user *configFile
	if ud := l.userDir(); ud != "" {
		user = &configFile{path: filepath.Join(ud, userConfigName), level: levelUser}
		files = append(files, user)
		for _, p := range globConfigs(filepath.Join(ud, "config")) {
			if filepath.Base(p) != userConfigName {
				files = append(files, &configFile{path: p, level: levelAdditional, readOnly: true})
			}
		}
	}
	if md := l.machineDir(); md != "" {
		for _, p := range globConfigs(md) {
			files = append(files, &configFile{path: p, level: levelMachine, readOnly: true})
		}
	}
	c := &Config{getenv: l.getenv}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.path] {
			continue
		}
		seen[f.path] = true
		if err := f.read(f != user); err != nil {
			return nil, err
		}
		c.files = append(c.files, f)
	}
	for _, f := range c.files {
		if !f.readOnly {
			c.target = f // the closest writable file: a directory file, else the user config
			break
		}
	}
	if err := c.rebuild(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadFile is the package-level LoadFile with l's environment.
func (l Loader) LoadFile(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	f := &configFile{path: abs, level: levelExplicit}
	if err := f.read(true); err != nil {
		return nil, err
	}
	c := &Config{getenv: l.getenv, files: []*configFile{f}, target: f}
	if err := c.rebuild(); err != nil {
		return nil, err
	}
	return c, nil
}

// read loads the file. A missing file is an error when mustExist, else it
// stays empty (doc == nil).
func (f *configFile) read(mustExist bool) error {
	fh, err := os.Open(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !mustExist {
			f.perm = 0o600
			return nil
		}
		return fmt.Errorf("trust: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("trust: %q is not a regular file", f.path)
	}
	f.perm = fi.Mode().Perm()
	data, err := io.ReadAll(io.LimitReader(fh, MaxConfigSize+1))
	if err != nil {
		return fmt.Errorf("trust: reading %q: %w", f.path, err)
	}
	doc, err := parseDocument(f.path, data)
	if err != nil {
		return err
	}
	f.doc = doc
	return nil
}

// userDir is NuGet's NuGetFolderPath.UserSettingsDirectory.
func (l Loader) userDir() string {
	if runtime.GOOS == "windows" {
		if a := l.getenv("APPDATA"); a != "" {
			return filepath.Join(a, "NuGet")
		}
		return ""
	}
	home := l.getenv("DOTNET_CLI_HOME")
	if home == "" {
		home = l.getenv("HOME")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".nuget", "NuGet")
}

// machineDir is NuGet's NuGetFolderPath.MachineWideConfigDirectory.
func (l Loader) machineDir() string {
	switch runtime.GOOS {
	case "windows":
		if p := l.getenv("ProgramFiles(x86)"); p != "" {
			return filepath.Join(p, "NuGet", "Config")
		}
		return ""
	case "darwin":
		return "/Library/Application Support/NuGet/Config"
	}
	base := l.getenv("NUGET_COMMON_APPLICATION_DATA")
	if base == "" {
		base = "/etc/opt"
	}
	return filepath.Join(base, "NuGet", "Config")
}

// globConfigs lists the *.config and *.Config files of dir in name order.
func globConfigs(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if (strings.HasSuffix(n, ".config") || strings.HasSuffix(n, ".Config")) && isFile(filepath.Join(dir, n)) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	slices.Sort(out)
	return out
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
