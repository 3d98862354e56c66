package feed

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraph", "Hello\nworld", "<p>Hello\nworld</p>\n"},
		{"headings shift", "# One\n## Two\n###### Six", "<h3>One</h3>\n<h4>Two</h4>\n<h6>Six</h6>\n"},
		{"setext", "Title\n=====\nSub\n---", "<h3>Title</h3>\n<h4>Sub</h4>\n"},
		{"not a heading", "#hashtag", "<p>#hashtag</p>\n"},
		{"fenced code", "```go\nx := <b>\n```", "<pre><code>x := &lt;b&gt;</code></pre>\n"},
		{"unclosed fence", "~~~\ncode", "<pre><code>code</code></pre>\n"},
		{"indented code", "    a < b\n    c", "<pre><code>a &lt; b\nc</code></pre>\n"},
		{"list", "- one\n- two\n1. first", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n"},
		{"quote", "> quoted\n> more", "<blockquote><p>quoted\nmore</p></blockquote>\n"},
		{"rule", "a\n\n***\n", "<p>a</p>\n<hr>\n"},
		{"inline", "**b** *i* `c<d>` \\*no\\*", "<p><strong>b</strong> <em>i</em> <code>c&lt;d&gt;</code> *no*</p>\n"},
		{"link", "[docs](https://example.com/a?b=1&c=2 \"title\")",
			`<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer ugc">docs</a></p>` + "\n"},
		{"script link", "[x](javascript:alert(1))", "<p>x</p>\n"},
		{"relative link", "[x](docs/a.md)", "<p>x</p>\n"},
		{"image", "![logo](https://example.com/l.png)",
			`<p><a href="https://example.com/l.png" rel="nofollow noopener noreferrer ugc">image: logo</a></p>` + "\n"},
		{"autolink", "<https://example.com>", `<p><a href="https://example.com" rel="nofollow noopener noreferrer ugc">https://example.com</a></p>` + "\n"},
		{"raw html", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"attribute quote", `"'&`, "<p>&#34;&#39;&amp;</p>\n"},
		{"unmatched markers", "**a *b [c `d", "<p>**a *b [c `d</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(renderMarkdown(tt.in)); got != tt.want {
				t.Errorf("renderMarkdown(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRenderMarkdownLinear: a README of unmatched markers, the worst case
// of delimiter searches, renders quickly.
func TestRenderMarkdownLinear(t *testing.T) {
	for _, unit := range []string{"*a", "[a", "`a", "<http", "[a](", "**", "![", "[x](y"} {
		src := strings.Repeat(unit, maxReadmeSize/len(unit))
		start := time.Now()
		renderMarkdown(src)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("rendering %d bytes of %q took %v", len(src), unit, d)
		}
	}
}

// allowedTag matches the tags the renderer writes; checkRendered fails on
// any other markup.
var allowedTag = regexp.MustCompile(`^<(/?(p|h[3-6]|pre|code|ul|ol|li|blockquote|strong|em|a)|hr|a href="https?://[^"<>]*" rel="nofollow noopener noreferrer ugc")>`)

func checkRendered(t *testing.T, in, out string) {
	t.Helper()
	for i := strings.IndexByte(out, '<'); i >= 0; i = strings.IndexByte(out, '<') {
		m := allowedTag.FindString(out[i:])
		if m == "" {
			t.Fatalf("renderMarkdown(%q) wrote markup of its own making at %q", in, out[i:min(len(out), i+40)])
		}
		out = out[i+len(m):]
	}
	if strings.ContainsAny(out, ">") && strings.Contains(out, "\">") {
		t.Fatalf("renderMarkdown(%q): stray attribute text", in)
	}
}

func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{widgetsReadme, "# h\n\n- a\n- b\n\n```\ncode\n```", "[a](https://x.example/\"onmouseover=1)",
		"<https://x\"y>", "**[a](https://e.example)**", "> q\n- l\n    c", "![i](javascript:x)", "``` a ` b ```"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > maxReadmeSize {
			return
		}
		checkRendered(t, in, string(renderMarkdown(in)))
	})
}
