package project

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// Bounds on the XML files read. Real project files are a few KiB
// (generated ones a few hundred KiB) and nest fewer than ten levels; the
// bounds stop a hostile file from exhausting memory.
const (
	// maxFileSize bounds a project, props or packages.config file.
	maxFileSize = 4 << 20
	// maxDepth bounds element nesting.
	maxDepth = 64
	// maxElements bounds the elements of one file.
	maxElements = 100_000
)

// element is an XML element reduced to what MSBuild evaluation needs.
type element struct {
	name     string            // local name
	attrs    map[string]string // by local name, as written
	text     []byte            // character data directly inside
	children []*element
}

// value returns the element's text, as MSBuild reads a property or
// metadata value: surrounding white space trimmed.
func (e *element) value() string { return strings.TrimSpace(string(e.text)) }

// attr returns the attribute name, matched ignoring case as MSBuild does
// for metadata, and whether it is present.
func (e *element) attr(name string) (string, bool) {
	if v, ok := e.attrs[name]; ok {
		return v, true
	}
	for k, v := range e.attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// readFile reads a file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("project: %s is larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// parseXML parses a document into elements. It accepts UTF-8 (with or
// without a byte order mark) and UTF-16 with a byte order mark, the
// encodings Visual Studio writes. encoding/xml expands no entity besides
// the five predefined ones and character references, and reads no DTD or
// external resource, so a document cannot pull in anything else.
func parseXML(data []byte) (*element, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	data, err := toUTF8(data)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "utf-16", "utf16", "unicode", "us-ascii", "ascii":
			return r, nil // already UTF-8 (toUTF8 converted UTF-16)
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	var root *element
	var stack []*element
	count := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > maxElements {
				return nil, fmt.Errorf("more than %d elements", maxElements)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			e := &element{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr))}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				e.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.text = append(top.text, t...)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// toUTF8 drops a UTF-8 byte order mark and converts UTF-16 with a byte
// order mark to UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		body := data[2:]
		if len(body)%2 != 0 {
			return nil, errors.New("truncated UTF-16")
		}
		units := make([]uint16, len(body)/2)
		for i := range units {
			if data[0] == 0xFF {
				units[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
			} else {
				units[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
		}
		return []byte(string(utf16.Decode(units))), nil
	}
	return data, nil
}
