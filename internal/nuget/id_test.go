package nuget

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"Newtonsoft.Json", true},
		{"System.Runtime.CompilerServices.Unsafe", true},
		{"a", true},
		{"_", true},
		{"my-pkg_2", true},
		{"A.B-C.D", true},
		{"1", true},
		{"Ünïcödé.Package", true},
		{"中文包", true},
		{"a\u0301b", true}, // combining acute accent (Mn)
		{"a\u203fb", true}, // undertie (Pc)
		{strings.Repeat("a", 100), true},
		{strings.Repeat("é", 100), true},
		{"", false},
		{strings.Repeat("a", 101), false},
		{strings.Repeat("é", 101), false},
		{".a", false},
		{"a.", false},
		{"-a", false},
		{"a-", false},
		{"a..b", false},
		{"a.-b", false},
		{"a b", false},
		{"a/b", false},
		{"a\\b", false},
		{"a\n", false},
		{"a+b", false},
		{"a@b", false},
		{"\xff", false},
		{"a\U0001D400", false}, // mathematical bold capital A, outside the BMP
		{"a\u00a0b", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.ok {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}
