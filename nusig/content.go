package nusig

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// hashOIDs are the only package-hash algorithms NuGet accepts (spec 2.3).
var hashOIDs = []struct {
	oid string
	h   crypto.Hash
}{
	{"2.16.840.1.101.3.4.2.1", crypto.SHA256},
	{"2.16.840.1.101.3.4.2.2", crypto.SHA384},
	{"2.16.840.1.101.3.4.2.3", crypto.SHA512},
}

func hashOIDString(h crypto.Hash) (string, bool) {
	for _, e := range hashOIDs {
		if e.h == h {
			return e.oid, true
		}
	}
	return "", false
}

// maxContentSize bounds the signature content: the real thing is under 150
// bytes ("Version:1" and one SHA-512 hash line).
const maxContentSize = 4 << 10

// Content is NuGet's signature content (spec 2.3): the text that the primary
// signature signs, naming the hash of the unsigned package.
type Content struct {
	Hash      crypto.Hash // SHA-256, SHA-384 or SHA-512
	HashValue []byte      // the hash of the package without its signature entry
}

// Marshal returns the content exactly as NuGet writes it: UTF-8 without BOM,
// LF line ends, "Version:1", an empty line, "<oid>-Hash:<base64>", an empty
// line.
func (c Content) Marshal() ([]byte, error) {
	oid, ok := hashOIDString(c.Hash)
	if !ok {
		return nil, fmt.Errorf("nusig: unsupported package hash algorithm %v", c.Hash)
	}
	if len(c.HashValue) != c.Hash.Size() {
		return nil, fmt.Errorf("nusig: package hash is %d bytes, want %d for %v", len(c.HashValue), c.Hash.Size(), c.Hash)
	}
	return []byte("Version:1\n\n" + oid + "-Hash:" + base64.StdEncoding.EncodeToString(c.HashValue) + "\n\n"), nil
}

var contentKey = regexp.MustCompile(`^[a-zA-Z0-9.\-/]+$`)

// ParseContent reads signature content as the NuGet client does (spec 2.3):
// sections of key:value lines each ended by an empty line; any line end; the
// first section must hold Version 1 (NU3007 for another version); the second
// must name a hash with an allowed algorithm (NU3000 otherwise).
func ParseContent(b []byte) (Content, error) {
	if len(b) > maxContentSize {
		return Content{}, newIssueError(NU3000, "the package signature content is larger than %d bytes", maxContentSize)
	}
	sections, err := readSections(b)
	if err != nil {
		return Content{}, err
	}
	if len(sections) < 2 {
		return Content{}, newIssueError(NU3000, "the package signature content is invalid: %d section(s), want 2", len(sections))
	}
	v, ok := sections[0]["Version"]
	if !ok {
		return Content{}, newIssueError(NU3000, "the package signature content is invalid: no Version")
	}
	if v != "1" {
		return Content{}, newIssueError(NU3007, "the package signature format version %q is not supported", v)
	}
	for _, e := range hashOIDs {
		val, ok := sections[1][e.oid+"-Hash"]
		if !ok {
			continue
		}
		h, err := base64.StdEncoding.DecodeString(val)
		if err != nil || len(h) != e.h.Size() {
			return Content{}, newIssueError(NU3000, "package hash information could not be read")
		}
		return Content{Hash: e.h, HashValue: h}, nil
	}
	return Content{}, newIssueError(NU3000, "package hash information could not be read: no SHA-256, SHA-384 or SHA-512 hash")
}

// readSections splits content into its sections. A section that reaches the
// end without an empty line, an invalid key, an empty value or a duplicate
// key makes the content invalid, as in the client's reader.
func readSections(b []byte) ([]map[string]string, error) {
	invalid := func(why string) error {
		return newIssueError(NU3000, "the package signature content is invalid: %s", why)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Split(scanAnyLineEnd)
	var sections []map[string]string
	cur := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(cur) == 0 {
				// An empty section ends the sections that count; the rest is ignored.
				break
			}
			sections = append(sections, cur)
			cur = map[string]string{}
			if len(sections) == 2 {
				break
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !contentKey.MatchString(k) {
			return nil, invalid(fmt.Sprintf("bad line %q", line))
		}
		if v == "" {
			return nil, invalid(fmt.Sprintf("empty value for %q", k))
		}
		if _, dup := cur[k]; dup {
			return nil, invalid(fmt.Sprintf("duplicate key %q", k))
		}
		cur[k] = v
	}
	if len(cur) > 0 && len(sections) < 2 {
		return nil, invalid("a section does not end with an empty line")
	}
	return sections, nil
}

// scanAnyLineEnd is bufio.ScanLines extended to lone CR line ends, like .NET's
// StreamReader.ReadLine.
func scanAnyLineEnd(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // need more to tell CR from CRLF
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
