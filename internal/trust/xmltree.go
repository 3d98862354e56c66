package trust

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what a nuget.config may hold. Every file in the hierarchy is read
// whole into memory, so each is capped.
const (
	// MaxConfigSize caps one nuget.config file. Real ones are a few KiB; the
	// largest (many sources, credentials and trusted signers) stay far below
	// 100 KiB, so a file of a mebibyte is a mistake or an attack.
	MaxConfigSize = 1 << 20
	// maxDepth caps element nesting. nuget.config nests four levels
	// (configuration, section, item, certificate); 32 leaves room for the
	// unknown sections of other tools while bounding recursion.
	maxDepth = 32
)

type nodeKind uint8

const (
	elementNode nodeKind = iota
	textNode             // character data, including CDATA sections
	otherNode            // comment, processing instruction or directive
)

// node is one piece of an XML document kept in document order, so that a
// file can be written back with everything Signet does not own untouched.
// Parsed nodes keep their raw bytes and are written back byte for byte; new
// or changed elements are serialized.
type node struct {
	kind   nodeKind
	parent *node
	line   int

	// raw holds the node's original bytes: the whole token for text and
	// other nodes, the start tag for elements. It is nil for new nodes.
	raw []byte

	// Elements only.
	name        xml.Name // Space holds the prefix, as xml.Decoder.RawToken gives it
	attrs       []xml.Attr
	children    []*node
	selfClosing bool   // parsed as <x/>
	endRaw      []byte // original end tag, nil when self-closing or new

	// text is the decoded character data of a text node.
	text string
}

// document is a parsed nuget.config.
type document struct {
	nodes []*node // top-level nodes in order; exactly one is the root element
	root  *node
	bom   bool   // the file started with a UTF-8 byte order mark
	eol   string // "\r\n" when the file uses CRLF line ends, else "\n"
}

// ConfigError is a malformed or invalid nuget.config: it names the file and,
// when known, the line.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

// Error formats the error as "trust: file:line: message".
func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("trust: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("trust: %s: %s", e.File, e.Msg)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseDocument reads a nuget.config into an order-preserving tree. It
// checks well-formedness (matching tags, one root element, no text outside
// it, depth) and that the root is <configuration>, as NuGet requires.
func parseDocument(file string, data []byte) (*document, error) {
	if len(data) > MaxConfigSize {
		return nil, &ConfigError{File: file, Msg: fmt.Sprintf("the file is larger than %d bytes", MaxConfigSize)}
	}
	doc := &document{eol: "\n"}
	if bytes.HasPrefix(data, utf8BOM) {
		doc.bom = true
		data = data[len(utf8BOM):]
	}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		doc.eol = "\r\n"
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	fail := func(line int, format string, args ...any) error {
		return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var (
		stack []*node
		prev  int64
	)
	add := func(n *node) {
		if len(stack) == 0 {
			doc.nodes = append(doc.nodes, n)
			return
		}
		p := stack[len(stack)-1]
		n.parent = p
		p.children = append(p.children, n)
	}
	for {
		line, _ := d.InputPos()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fail(se.Line, "malformed XML: %s", se.Msg)
			}
			return nil, fail(line, "malformed XML: %v", err)
		}
		off := d.InputOffset()
		raw := data[prev:off]
		prev = off
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && doc.root != nil {
				return nil, fail(line, "a second root element <%s>", t.Name.Local)
			}
			if len(stack) >= maxDepth {
				return nil, fail(line, "elements nest deeper than %d levels", maxDepth)
			}
			n := &node{kind: elementNode, line: line, raw: raw, name: t.Name, attrs: t.Copy().Attr}
			for i, a := range n.attrs {
				for _, b := range n.attrs[:i] {
					if a.Name == b.Name {
						return nil, fail(line, "element <%s> repeats the attribute %q", qname(t.Name), qname(a.Name))
					}
				}
			}
			add(n)
			if len(stack) == 0 {
				doc.root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fail(line, "unexpected end tag </%s>", t.Name.Local)
			}
			top := stack[len(stack)-1]
			if top.name != t.Name {
				return nil, fail(line, "element <%s> (line %d) is closed by </%s>", qname(top.name), top.line, qname(t.Name))
			}
			if len(raw) == 0 {
				top.selfClosing = true
			} else {
				top.endRaw = raw
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			// Report text at its first non-space character.
			line += bytes.Count(t[:len(t)-len(bytes.TrimLeft(t, " \t\r\n"))], []byte("\n"))
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fail(line, "text outside the root element")
			}
			add(&node{kind: textNode, line: line, raw: raw, text: string(t)})
		case xml.Comment, xml.ProcInst, xml.Directive:
			add(&node{kind: otherNode, line: line, raw: raw})
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, fail(top.line, "element <%s> is not closed", qname(top.name))
	}
	if doc.root == nil {
		return nil, fail(0, "no root element")
	}
	if !strings.EqualFold(doc.root.name.Local, "configuration") {
		return nil, fail(doc.root.line, "the root element is <%s>, not <configuration>", qname(doc.root.name))
	}
	return doc, nil
}

// newDocument returns a document holding content, which must parse.
func newDocument(content string) *document {
	doc, err := parseDocument("(new)", []byte(content))
	if err != nil {
		panic("trust: bad built-in document: " + err.Error())
	}
	return doc
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// bytes serializes the document: original bytes for everything untouched.
func (doc *document) bytes() []byte {
	var b bytes.Buffer
	if doc.bom {
		b.Write(utf8BOM)
	}
	for _, n := range doc.nodes {
		n.write(&b)
	}
	return b.Bytes()
}

func (n *node) write(b *bytes.Buffer) {
	switch n.kind {
	case textNode:
		if n.raw != nil {
			b.Write(n.raw)
		} else {
			escapeText(b, n.text)
		}
		return
	case otherNode:
		b.Write(n.raw)
		return
	}
	if n.raw != nil && (!n.selfClosing || len(n.children) == 0) {
		b.Write(n.raw)
		if n.selfClosing {
			return
		}
	} else {
		b.WriteByte('<')
		b.WriteString(qname(n.name))
		for _, a := range n.attrs {
			b.WriteByte(' ')
			b.WriteString(qname(a.Name))
			b.WriteString(`="`)
			escapeAttr(b, a.Value)
			b.WriteByte('"')
		}
		if len(n.children) == 0 {
			b.WriteString(" />")
			return
		}
		b.WriteByte('>')
	}
	for _, c := range n.children {
		c.write(b)
	}
	if n.endRaw != nil {
		b.Write(n.endRaw)
	} else {
		b.WriteString("</" + qname(n.name) + ">")
	}
}

func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
}

func escapeAttr(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

// attr returns the value of the unprefixed attribute named exactly name.
// NuGet looks required attributes up by exact, unqualified name.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// is reports whether n is an element with local name local, compared as
// NuGet compares item names: case-insensitively, ignoring any prefix.
func (n *node) is(local string) bool {
	return n.kind == elementNode && strings.EqualFold(n.name.Local, local)
}

// elements returns n's element children.
func (n *node) elements() []*node {
	var out []*node
	for _, c := range n.children {
		if c.kind == elementNode {
			out = append(out, c)
		}
	}
	return out
}

// content returns the concatenated text of n's text children and whether
// n has element children.
func (n *node) content() (string, bool) {
	var s strings.Builder
	hasElem := false
	for _, c := range n.children {
		switch c.kind {
		case textNode:
			s.WriteString(c.text)
		case elementNode:
			hasElem = true
		}
	}
	return s.String(), hasElem
}

// newElement returns a new element with attributes given as name, value
// pairs.
func newElement(local string, kv ...string) *node {
	n := &node{kind: elementNode, name: xml.Name{Local: local}}
	for i := 0; i+1 < len(kv); i += 2 {
		n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return n
}

// indentOf returns the whitespace that precedes n on its line, or "" when
// n does not start a line.
func (n *node) indentOf() string {
	p := n.parent
	if p == nil {
		return ""
	}
	for i, c := range p.children {
		if c != n {
			continue
		}
		if i == 0 || p.children[i-1].kind != textNode {
			return ""
		}
		t := p.children[i-1].text
		j := strings.LastIndexByte(t, '\n')
		if j < 0 || strings.TrimSpace(t[j+1:]) != "" {
			return ""
		}
		return t[j+1:]
	}
	return ""
}

// indentUnit is the indentation step used when the file shows none.
const indentUnit = "  "

// appendIndented adds child as the last element child of parent, on its own
// line, indented one step further than parent (or as parent's existing
// children are), as NuGet's writer lays out what it adds.
func (doc *document) appendIndented(parent, child *node) {
	parentIndent := parent.indentOf()
	childIndent := parentIndent + indentUnit
	for _, c := range parent.elements() {
		childIndent = c.indentOf()
		break
	}
	child.parent = parent
	lead := &node{kind: textNode, parent: parent, text: doc.eol + childIndent}
	k := len(parent.children)
	if k > 0 {
		last := parent.children[k-1]
		if last.kind == textNode && strings.TrimSpace(last.text) == "" && strings.Contains(last.text, "\n") {
			// Insert before the whitespace that closes the parent.
			parent.children = append(parent.children[:k-1], lead, child, last)
			return
		}
	}
	tail := &node{kind: textNode, parent: parent, text: doc.eol + parentIndent}
	parent.children = append(parent.children, lead, child, tail)
}

// removeIndented removes child from its parent together with the
// whitespace that precedes it on its line.
func removeIndented(child *node) {
	p := child.parent
	if p == nil {
		return
	}
	for i, c := range p.children {
		if c != child {
			continue
		}
		from := i
		if i > 0 {
			prev := p.children[i-1]
			if prev.kind == textNode && strings.TrimSpace(prev.text) == "" {
				from = i - 1
			}
		}
		p.children = append(p.children[:from:from], p.children[i+1:]...)
		child.parent = nil
		return
	}
}
