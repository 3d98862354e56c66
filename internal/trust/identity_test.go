package trust

import (
	"slices"
	"strings"
	"testing"
)

func TestParseDN(t *testing.T) {
	cnOID, oOID := "2.5.4.3", "2.5.4.10"
	tests := []struct {
		in   string
		want []string // sorted canonical attributes; nil when the name is refused
		err  string
	}{
		{in: "CN=Contoso, O=Contoso", want: []string{cnOID + "=contoso", oOID + "=contoso"}},
		{in: "o=Contoso;cn=  Contoso   Ltd  ", want: []string{cnOID + "=contoso ltd", oOID + "=contoso"}},
		{in: `CN="a, b", O=x`, want: []string{cnOID + "=a, b", oOID + "=x"}},
		{in: `CN=a\, b+O=x`, want: []string{cnOID + "=a, b", oOID + "=x"}},
		{in: `CN=a\2c b`, want: []string{cnOID + "=a, b"}},
		{in: `CN=trailing\ `, want: []string{cnOID + "=trailing"}},
		{in: "OID.2.5.4.3=x", want: []string{cnOID + "=x"}},
		{in: "2.5.4.3=#0c0178", want: []string{cnOID + "=x"}},
		{in: "E=a@b.example", want: []string{"1.2.840.113549.1.9.1=a@b.example"}},
		{in: "CN=a,", err: "not type=value"},
		{in: "Contoso", err: "not type=value"},
		{in: "XX=1", err: "unknown attribute type"},
		{in: `CN="open`, err: "unterminated"},
		{in: `CN="a" b`, err: "text after a quoted value"},
		{in: `CN=a\`, err: "ends with a backslash"},
		{in: "CN=#zz", err: "bad hex"},
		{in: "CN=#0201ff", err: "not a DER string"},
		{in: strings.Repeat("CN=a,", maxDNAttributes) + "CN=a", err: "more than"},
	}
	for _, tt := range tests {
		got, err := parseDN(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseDN(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		slices.Sort(tt.want)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseDN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
