package project

import (
	"fmt"
	"path/filepath"
	"strings"
)

// This file is the small part of MSBuild evaluation a restore needs:
// properties, conditions of the forms projects use to vary references by
// target framework, and $(Property) expansion.

// propValue is an evaluated property; ok is false when its definition used
// syntax this evaluator does not understand (property functions, item
// lists), so that anything depending on it is reported instead of guessed.
type propValue struct {
	v  string
	ok bool
}

// evaluator evaluates the elements of a project and its imports.
type evaluator struct {
	props map[string]propValue // by lower-case name
	// global properties (TargetFramework in a per-framework evaluation)
	// cannot be redefined by the project, as in MSBuild.
	global   map[string]bool
	thisFile string
	warnings map[string]bool
}

func newEvaluator(projectPath string, global map[string]string) *evaluator {
	ev := &evaluator{props: map[string]propValue{}, global: map[string]bool{}, warnings: map[string]bool{}}
	dir := filepath.Dir(projectPath)
	base := filepath.Base(projectPath)
	ext := filepath.Ext(base)
	for k, v := range map[string]string{
		"MSBuildProjectDirectory": dir,
		"MSBuildProjectFullPath":  projectPath,
		"MSBuildProjectFile":      base,
		"MSBuildProjectName":      strings.TrimSuffix(base, ext),
		"MSBuildProjectExtension": ext,
	} {
		ev.props[strings.ToLower(k)] = propValue{v, true}
	}
	for k, v := range global {
		ev.props[strings.ToLower(k)] = propValue{v, true}
		ev.global[strings.ToLower(k)] = true
	}
	return ev
}

func (ev *evaluator) warn(format string, args ...any) {
	ev.warnings[fmt.Sprintf(format, args...)] = true
}

func (ev *evaluator) get(name string) propValue {
	switch strings.ToLower(name) {
	case "msbuildthisfiledirectory":
		return propValue{filepath.Dir(ev.thisFile) + string(filepath.Separator), true}
	case "msbuildthisfile":
		return propValue{filepath.Base(ev.thisFile), true}
	case "msbuildthisfilefullpath":
		return propValue{ev.thisFile, true}
	}
	if p, ok := ev.props[strings.ToLower(name)]; ok {
		return p
	}
	return propValue{"", true} // an undefined property is empty
}

func (ev *evaluator) set(name, value string, ok bool) {
	k := strings.ToLower(name)
	if !ev.global[k] {
		ev.props[k] = propValue{value, ok}
	}
}

// expand replaces each $(Name) in s by the property's value. It reports
// false for property functions ($(X.Y()), $([T]::M())), item lists @(...)
// and metadata %(...), and for references to properties defined that way.
func (ev *evaluator) expand(s string) (string, bool) {
	if !strings.ContainsAny(s, "$@%") {
		return s, true
	}
	if strings.Contains(s, "@(") || strings.Contains(s, "%(") {
		return "", false
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return "", false
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		if !validPropertyName(name) {
			return "", false
		}
		p := ev.get(name)
		if !p.ok {
			return "", false
		}
		b.WriteString(p.v)
		s = s[i+j+1:]
	}
}

// validPropertyName reports whether s is a plain MSBuild property name.
func validPropertyName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}

// condition evaluates e's Condition attribute; an element without one is
// included. An unsupported condition excludes the element, with a warning.
func (ev *evaluator) condition(e *element) bool {
	c, ok := e.attr("Condition")
	if !ok || strings.TrimSpace(c) == "" {
		return true
	}
	v, ok := ev.evalCondition(c)
	if !ok {
		ev.warn("%s: condition %q on <%s> is not supported; the element is ignored", filepath.Base(ev.thisFile), c, e.name)
		return false
	}
	return v
}

// evalCondition evaluates an MSBuild condition made of string
// comparisons ("'$(TargetFramework)' == 'net8.0'", "!="), "and", "or",
// parentheses and bare boolean values ("$(IsPackable)", "true"). Strings
// compare ignoring case, as in MSBuild. Functions (Exists,
// HasTrailingSlash), "!", numeric comparisons and property functions are
// not supported and make it return false for ok.
func (ev *evaluator) evalCondition(s string) (value, ok bool) {
	toks, ok := tokenizeCondition(s)
	if !ok {
		return false, false
	}
	p := &condParser{ev: ev, toks: toks}
	v, ok := p.or()
	if !ok || p.pos != len(p.toks) {
		return false, false
	}
	return v, true
}

type condToken struct {
	kind byte // 's' string, 'w' word, '=' ==, '!' !=, '(' , ')'
	text string
}

// maxConditionTokens bounds a condition; real ones have under 20 tokens.
const maxConditionTokens = 256

func tokenizeCondition(s string) ([]condToken, bool) {
	var toks []condToken
	for i := 0; i < len(s); {
		if len(toks) > maxConditionTokens {
			return nil, false
		}
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, false
			}
			toks = append(toks, condToken{'s', s[i+1 : i+1+j]})
			i += j + 2
		case strings.HasPrefix(s[i:], "=="):
			toks = append(toks, condToken{'=', "=="})
			i += 2
		case strings.HasPrefix(s[i:], "!="):
			toks = append(toks, condToken{'!', "!="})
			i += 2
		case c == '(' || c == ')':
			toks = append(toks, condToken{c, string(c)})
			i++
		case strings.HasPrefix(s[i:], "$("):
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				return nil, false
			}
			toks = append(toks, condToken{'s', s[i : i+j+1]})
			i += j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			toks = append(toks, condToken{'w', s[i:j]})
			i = j
		default:
			return nil, false
		}
	}
	return toks, true
}

type condParser struct {
	ev   *evaluator
	toks []condToken
	pos  int
}

func (p *condParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'w' && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *condParser) or() (bool, bool) {
	v, ok := p.and()
	for ok && p.peekWord("or") {
		p.pos++
		var w bool
		w, ok = p.and()
		v = v || w
	}
	return v, ok
}

func (p *condParser) and() (bool, bool) {
	v, ok := p.comparison()
	for ok && p.peekWord("and") {
		p.pos++
		var w bool
		w, ok = p.comparison()
		v = v && w
	}
	return v, ok
}

func (p *condParser) comparison() (bool, bool) {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == '(' {
		p.pos++
		v, ok := p.or()
		if !ok || p.pos >= len(p.toks) || p.toks[p.pos].kind != ')' {
			return false, false
		}
		p.pos++
		return v, true
	}
	left, ok := p.operand()
	if !ok {
		return false, false
	}
	if p.pos < len(p.toks) && (p.toks[p.pos].kind == '=' || p.toks[p.pos].kind == '!') {
		op := p.toks[p.pos].kind
		p.pos++
		right, ok := p.operand()
		if !ok {
			return false, false
		}
		eq := strings.EqualFold(left, right)
		return eq == (op == '='), true
	}
	switch strings.ToLower(left) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// operand reads a quoted string, an unquoted $(Property) or the words
// true and false, expanded.
func (p *condParser) operand() (string, bool) {
	if p.pos >= len(p.toks) {
		return "", false
	}
	t := p.toks[p.pos]
	switch {
	case t.kind == 's':
		p.pos++
		return p.ev.expand(t.text)
	case t.kind == 'w' && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		p.pos++
		return t.text, true
	}
	return "", false
}

// isTrue reads an MSBuild boolean property.
func isTrue(p propValue) bool { return p.ok && strings.EqualFold(strings.TrimSpace(p.v), "true") }

// isFalse reports an explicit false.
func isFalse(p propValue) bool { return p.ok && strings.EqualFold(strings.TrimSpace(p.v), "false") }

// evalProperties evaluates the property groups of f in document order.
func (ev *evaluator) evalProperties(f *sourceFile) {
	ev.thisFile = f.path
	ev.properties(f.root.children)
}

func (ev *evaluator) properties(children []*element) {
	for _, e := range children {
		switch {
		case strings.EqualFold(e.name, "PropertyGroup"):
			if !ev.condition(e) {
				continue
			}
			for _, p := range e.children {
				if !ev.condition(p) {
					continue
				}
				v, ok := ev.expand(p.value())
				ev.set(p.name, v, ok)
			}
		case strings.EqualFold(e.name, "Choose"):
			if branch := ev.choose(e); branch != nil {
				ev.properties(branch)
			}
		}
	}
}

// choose returns the children of the first <When> whose condition holds,
// else those of <Otherwise>.
func (ev *evaluator) choose(e *element) []*element {
	for _, c := range e.children {
		switch {
		case strings.EqualFold(c.name, "When"):
			if ev.condition(c) {
				return c.children
			}
		case strings.EqualFold(c.name, "Otherwise"):
			return c.children
		}
	}
	return nil
}
