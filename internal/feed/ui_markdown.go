package feed

import (
	"html/template"
	"strconv"
	"strings"
)

// A minimal Markdown renderer for package READMEs: ATX and setext
// headings, paragraphs, fenced and indented code, block quotes, flat
// lists, rules, and inline code, strong and emphasis, links to http(s)
// URLs and autolinks. Every byte of the source reaches the page escaped;
// the only markup is the renderer's own tags, and the only attribute an
// http(s) href (with rel="nofollow noopener noreferrer ugc"). Raw HTML is
// shown as text, and images as links (the page loads nothing from other
// sites). Unsupported syntax (tables, nested lists) shows as text.

// Bounds of the renderer.
const (
	// maxInlineDepth bounds the nesting of emphasis and link text: real
	// READMEs nest two or three deep; beyond it markers are text.
	maxInlineDepth = 8
	// headingShift moves README headings under the page's own (h1 the
	// package, h2 its sections): a README's "#" is an h3.
	headingShift = 2
	// maxAutolink bounds the URL of an autolink (<https://…>), so that
	// a line of unclosed '<' is not scanned to its end at each one.
	maxAutolink = 2048
	// maxLinkParens bounds the nested parentheses of a link destination.
	maxLinkParens = 3
)

// renderMarkdown renders a README (at most maxReadmeSize bytes, which the
// caller enforces).
func renderMarkdown(src string) template.HTML {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	src = strings.ReplaceAll(src, "\x00", "\uFFFD")
	lines := strings.Split(src, "\n")
	var (
		b        strings.Builder
		para     []string
		items    [][]string
		listTag  string
		quote    []string
		flushAll func()
	)
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			b.WriteString(inline(strings.Join(para, "\n"), 0))
			b.WriteString("</p>\n")
			para = nil
		}
	}
	flushList := func() {
		if len(items) > 0 {
			b.WriteString("<" + listTag + ">\n")
			for _, it := range items {
				b.WriteString("<li>")
				b.WriteString(inline(strings.Join(it, "\n"), 0))
				b.WriteString("</li>\n")
			}
			b.WriteString("</" + listTag + ">\n")
			items = nil
		}
	}
	flushQuote := func() {
		if len(quote) > 0 {
			b.WriteString("<blockquote><p>")
			b.WriteString(inline(strings.Join(quote, "\n"), 0))
			b.WriteString("</p></blockquote>\n")
			quote = nil
		}
	}
	flushAll = func() { flushPara(); flushList(); flushQuote() }

	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if fence := codeFence(trimmed); fence != "" && indent < 4 {
			flushAll()
			var code []string
			for i++; i < len(lines); i++ {
				if t := strings.TrimSpace(lines[i]); strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
					break
				}
				code = append(code, lines[i])
			}
			writeCode(&b, code)
			continue
		}
		switch {
		case trimmed == "":
			flushAll()
		case indent >= 4 && len(para) == 0 && len(items) == 0 && len(quote) == 0:
			var code []string
			for ; i < len(lines); i++ {
				l := strings.TrimRight(lines[i], " \t")
				if l != "" && !strings.HasPrefix(l, "    ") {
					break
				}
				code = append(code, strings.TrimPrefix(l, "    "))
			}
			i--
			for len(code) > 0 && code[len(code)-1] == "" {
				code = code[:len(code)-1]
			}
			writeCode(&b, code)
		case len(para) > 0 && isUnderline(trimmed, '='):
			writeHeading(&b, 1, strings.Join(para, " "))
			para = nil
		case len(para) > 0 && isUnderline(trimmed, '-'):
			writeHeading(&b, 2, strings.Join(para, " "))
			para = nil
		case atxLevel(trimmed) > 0:
			flushAll()
			n := atxLevel(trimmed)
			text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trimmed[n:]), "#"))
			writeHeading(&b, n, text)
		case isRule(trimmed):
			flushAll()
			b.WriteString("<hr>\n")
		case strings.HasPrefix(trimmed, ">"):
			flushPara()
			flushList()
			quote = append(quote, strings.TrimPrefix(strings.TrimPrefix(trimmed, ">"), " "))
		default:
			if tag, text, ok := listItem(trimmed); ok {
				flushPara()
				flushQuote()
				if tag != listTag {
					flushList()
				}
				listTag = tag
				items = append(items, []string{text})
				continue
			}
			if len(items) > 0 && indent >= 2 {
				items[len(items)-1] = append(items[len(items)-1], trimmed)
				continue
			}
			if len(quote) > 0 {
				quote = append(quote, trimmed)
				continue
			}
			flushList()
			para = append(para, trimmed)
		}
	}
	flushAll()
	return template.HTML(b.String())
}

// codeFence returns the fence a line opens (``` or ~~~, or longer), or "".
func codeFence(t string) string {
	for _, c := range []string{"`", "~"} {
		n := len(t) - len(strings.TrimLeft(t, c))
		if n >= 3 {
			if c == "`" && strings.Contains(t[n:], "`") {
				return "" // an inline code span, not a fence
			}
			return strings.Repeat(c, n)
		}
	}
	return ""
}

func writeCode(b *strings.Builder, code []string) {
	b.WriteString("<pre><code>")
	b.WriteString(template.HTMLEscapeString(strings.Join(code, "\n")))
	b.WriteString("</code></pre>\n")
}

func writeHeading(b *strings.Builder, level int, text string) {
	tag := "h" + strconv.Itoa(min(level+headingShift, 6))
	b.WriteString("<" + tag + ">")
	b.WriteString(inline(text, 0))
	b.WriteString("</" + tag + ">\n")
}

// atxLevel is the level of a "# heading" line, 0 if it is none.
func atxLevel(t string) int {
	n := len(t) - len(strings.TrimLeft(t, "#"))
	if n < 1 || n > 6 || (len(t) > n && t[n] != ' ' && t[n] != '\t') {
		return 0
	}
	return n
}

// isUnderline reports a setext underline (=== or ---).
func isUnderline(t string, c byte) bool {
	return len(t) > 0 && strings.Trim(t, string(c)) == ""
}

// isRule reports a thematic break: three or more *, - or _ (spaces
// allowed between).
func isRule(t string) bool {
	s := strings.ReplaceAll(t, " ", "")
	if len(s) < 3 {
		return false
	}
	for _, c := range []string{"*", "-", "_"} {
		if strings.Trim(s, c) == "" {
			return true
		}
	}
	return false
}

// listItem recognises "- item", "* item", "+ item" and "1. item" (or
// "1) item").
func listItem(t string) (tag, text string, ok bool) {
	if len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ' {
		return "ul", strings.TrimSpace(t[2:]), true
	}
	n := 0
	for n < len(t) && n < 9 && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n > 0 && n+1 < len(t) && (t[n] == '.' || t[n] == ')') && t[n+1] == ' ' {
		return "ol", strings.TrimSpace(t[n+2:]), true
	}
	return "", "", false
}

// inlineSpecial are the bytes that may start inline markup.
const inlineSpecial = "\\`*_[!<\n&\"'>"

// inline renders inline markup. Delimiter searches are remembered (the
// first occurrence at or after a position stays the answer for later
// positions up to it), so that lines of unmatched markers cost linear
// time.
func inline(s string, depth int) string {
	var b strings.Builder
	next := map[string]int{}
	find := func(from int, delim string) int {
		if k, ok := next[delim]; ok && (k < 0 || k >= from) {
			return k
		}
		k := strings.Index(s[from:], delim)
		if k >= 0 {
			k += from
		}
		next[delim] = k
		return k
	}
	esc := template.HTMLEscapeString
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], inlineSpecial)
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!<>|~", s[i+1]) >= 0:
			b.WriteString(esc(s[i+1 : i+2]))
			i += 2
		case c == '`':
			n := len(s[i:]) - len(strings.TrimLeft(s[i:], "`"))
			closer := s[i : i+n]
			if k := find(i+n, closer); k >= 0 {
				code := s[i+n : k]
				if len(code) > 1 && code[0] == ' ' && code[len(code)-1] == ' ' {
					code = code[1 : len(code)-1]
				}
				b.WriteString("<code>" + esc(code) + "</code>")
				i = k + n
				continue
			}
			b.WriteString(closer)
			i += n
		case (c == '*' || c == '_') && depth < maxInlineDepth && strings.HasPrefix(s[i:], string([]byte{c, c})):
			delim := s[i : i+2]
			if k := find(i+2, delim); k > i+2 {
				b.WriteString("<strong>" + inline(s[i+2:k], depth+1) + "</strong>")
				i = k + 2
				continue
			}
			b.WriteString(delim)
			i += 2
		case c == '*' && depth < maxInlineDepth && i+1 < len(s) && s[i+1] != ' ':
			if k := find(i+1, "*"); k > i+1 {
				b.WriteString("<em>" + inline(s[i+1:k], depth+1) + "</em>")
				i = k + 1
				continue
			}
			b.WriteString("*")
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '[':
			if text, dest, end, ok := link(s, i+1, find); ok {
				// Images load nothing from other sites: a link to them.
				b.WriteString(anchor(dest, "image: "+esc(text)))
				i = end
				continue
			}
			b.WriteString("!")
			i++
		case c == '[' && depth < maxInlineDepth:
			if text, dest, end, ok := link(s, i, find); ok {
				b.WriteString(anchor(dest, inline(text, depth+1)))
				i = end
				continue
			}
			b.WriteString("[")
			i++
		case c == '<':
			if k := strings.IndexByte(s[i+1:min(len(s), i+1+maxAutolink)], '>'); k > 0 {
				k += i + 1
				if u := webURL(s[i+1 : k]); u != "" && !strings.ContainsAny(s[i+1:k], " \n") {
					b.WriteString(anchor(u, esc(s[i+1:k])))
					i = k + 1
					continue
				}
			}
			b.WriteString("&lt;")
			i++
		case c == '\n':
			b.WriteString("\n")
			i++
		default:
			b.WriteString(esc(s[i : i+1]))
			i++
		}
	}
	return b.String()
}

// link parses "[text](destination)" at s[i] == '[': the text, an http(s)
// destination ("" if it is another kind), and the index after it.
func link(s string, i int, find func(int, string) int) (text, dest string, end int, ok bool) {
	k := find(i+1, "](")
	if k < 0 {
		return "", "", 0, false
	}
	m := find(k+2, ")")
	if m < 0 {
		return "", "", 0, false
	}
	// A destination may hold balanced parentheses ("f(1)"): a few levels.
	for n := 0; n < maxLinkParens && strings.Count(s[k+2:m], "(") > strings.Count(s[k+2:m], ")"); n++ {
		next := strings.IndexByte(s[m+1:], ')')
		if next < 0 {
			break
		}
		m += 1 + next
	}
	target := strings.Fields(strings.Trim(s[k+2:m], "<>"))
	if len(target) > 0 {
		dest = webURL(strings.Trim(target[0], "<>"))
	}
	return s[i+1 : k], dest, m + 1, true
}

// anchor writes a link with already rendered content; without an http(s)
// destination, the content alone.
func anchor(dest, content string) string {
	if dest == "" {
		return content
	}
	return `<a href="` + template.HTMLEscapeString(dest) + `" rel="nofollow noopener noreferrer ugc">` + content + `</a>`
}
