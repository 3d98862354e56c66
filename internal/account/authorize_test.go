package account

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAuthorize(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	all := []string{ScopePush, ScopePushVersion, ScopeUnlist}
	tests := []struct {
		name     string
		k        KeyGrant
		action   Action
		id       string
		idExists bool
		want     error // nil, or the sentinel the error wraps
	}{
		{"push new id", KeyGrant{Scopes: []string{ScopePush}}, ActionPush, "Contoso.Lib", false, nil},
		{"push new version", KeyGrant{Scopes: []string{ScopePush}}, ActionPush, "Contoso.Lib", true, nil},
		{"pushversion new version", KeyGrant{Scopes: []string{ScopePushVersion}}, ActionPush, "Contoso.Lib", true, nil},
		{"pushversion new id", KeyGrant{Scopes: []string{ScopePushVersion}}, ActionPush, "Contoso.Lib", false, ErrKeyScope},
		{"unlist only, push", KeyGrant{Scopes: []string{ScopeUnlist}}, ActionPush, "Contoso.Lib", true, ErrKeyScope},
		{"push only, unlist", KeyGrant{Scopes: []string{ScopePush, ScopePushVersion}}, ActionUnlist, "Contoso.Lib", true, ErrKeyScope},
		{"unlist", KeyGrant{Scopes: []string{ScopeUnlist}}, ActionUnlist, "Contoso.Lib", true, nil},
		{"no scopes", KeyGrant{}, ActionPush, "Contoso.Lib", true, ErrKeyScope},
		{"unknown scope", KeyGrant{Scopes: []string{"package:*", "PACKAGE:PUSH"}}, ActionPush, "Contoso.Lib", true, ErrKeyScope},
		{"glob matches", KeyGrant{Scopes: all, Globs: []string{"Other", "contoso.*"}}, ActionPush, "Contoso.Lib", false, nil},
		{"glob exact", KeyGrant{Scopes: all, Globs: []string{"CONTOSO.LIB"}}, ActionUnlist, "Contoso.Lib", true, nil},
		{"glob misses", KeyGrant{Scopes: all, Globs: []string{"Contoso.*"}}, ActionPush, "Fabrikam.Lib", false, ErrKeyPackage},
		{"glob prefix is not enough", KeyGrant{Scopes: all, Globs: []string{"Contoso"}}, ActionPush, "Contoso.Lib", true, ErrKeyPackage},
		{"star glob", KeyGrant{Scopes: all, Globs: []string{"*"}}, ActionPush, "Anything", false, nil},
		{"not expired", KeyGrant{Scopes: all, Expires: now.Add(time.Second)}, ActionPush, "A", true, nil},
		{"expired at the instant", KeyGrant{Scopes: all, Expires: now}, ActionPush, "A", true, ErrKeyExpired},
		{"expired before scope", KeyGrant{Expires: now.Add(-time.Hour)}, ActionPush, "A", true, ErrKeyExpired},
		{"scope before package", KeyGrant{Scopes: []string{ScopeUnlist}, Globs: []string{"B"}}, ActionPush, "A", true, ErrKeyScope},
	}
	for _, tt := range tests {
		k := tt.k
		k.Now = now
		err := Authorize(k, tt.action, tt.id, tt.idExists)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: Authorize = %v; want %v", tt.name, err, tt.want)
		}
	}
	// Caller bugs are errors, never a grant and never a 403 sentinel.
	grant := KeyGrant{Scopes: all, Now: now}
	for _, bad := range []struct {
		k      KeyGrant
		action Action
	}{{KeyGrant{Scopes: all}, ActionPush}, {grant, 0}, {grant, ActionUnlist + 1}} {
		err := Authorize(bad.k, bad.action, "A", true)
		if err == nil || errors.Is(err, ErrKeyScope) || errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrKeyPackage) {
			t.Errorf("Authorize(%+v, %v) = %v; want a plain error", bad.k, bad.action, err)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, id string
		want     bool
	}{
		{"*", "A", true},
		{"*", "", true},
		{"Contoso.*", "contoso.lib", true},
		{"Contoso.*", "Contoso.", true},
		{"Contoso.*", "Contoso", false},
		{"*.Core", "Contoso.Core", true},
		{"*.Core", "Contoso.Core.Tests", false},
		{"C*o*o", "Contoso", true},
		{"C*o*o", "Contosx", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXcYb", false},
		{"**", "x", true},
		{"ÉCOLE.*", "école.lib", true},
		{"abc", "ab", false},
		{"ab", "abc", false},
		{"", "", true},
		{"", "a", false},
		{strings.Repeat("*", maxMatchBytes+1), "a", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.glob, tt.id); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v; want %v", tt.glob, tt.id, got, tt.want)
		}
	}
}

func TestValidateGlob(t *testing.T) {
	tests := []struct {
		glob string
		ok   bool
	}{
		{"*", true},
		{"Contoso.*", true},
		{"*.Core", true},
		{"my-pkg_2", true},
		{"Über.Paket", true},
		{strings.Repeat("a", MaxGlobLength), true},
		{strings.Repeat("é", MaxGlobLength), true},
		{strings.Repeat("a", MaxGlobLength+1), false},
		{"", false},
		{"a b", false},
		{"a/b", false},
		{"a?", false},
		{"a\n", false},
		{"\xff", false},
		{"a+b", false},
		{"😀", false},
	}
	for _, tt := range tests {
		err := ValidateGlob(tt.glob)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("ValidateGlob(%q) = %v; want ok %v", tt.glob, err, tt.ok)
		}
	}
}

func TestValidateScope(t *testing.T) {
	for _, s := range []string{ScopePush, ScopePushVersion, ScopeUnlist} {
		if err := ValidateScope(s); err != nil {
			t.Errorf("ValidateScope(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "package:push-version", "Package:Push", "package:verify", "*"} {
		if err := ValidateScope(s); !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("ValidateScope(%q) = %v; want ErrInvalidGrant", s, err)
		}
	}
}

// FuzzMatchGlob checks matchGlob against regexp, and that ValidateGlob
// never panics and accepts only bounded patterns.
func FuzzMatchGlob(f *testing.F) {
	f.Add("Contoso.*", "Contoso.Lib")
	f.Add("*.Core*", "a.core.b")
	f.Add("a*b*c", "aXbYbZc")
	f.Add("ÉCOLE*", "école")
	f.Add("K*", "\u212a") // Kelvin sign lower-cases to k
	f.Fuzz(func(t *testing.T, glob, id string) {
		if ValidateGlob(glob) == nil && (glob == "" || len(glob) > MaxGlobLength*4) {
			t.Fatalf("ValidateGlob accepted %q", glob)
		}
		if len(glob) > maxMatchBytes || len(id) > maxMatchBytes {
			if matchGlob(glob, id) {
				t.Fatalf("matchGlob matched over-long input")
			}
			return
		}
		parts := strings.Split(strings.ToLower(glob), "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if got, want := matchGlob(glob, id), re.MatchString(strings.ToLower(id)); got != want {
			t.Fatalf("matchGlob(%q, %q) = %v; regexp %v", glob, id, got, want)
		}
	})
}
