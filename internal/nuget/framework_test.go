package nuget

import (
	"errors"
	"strings"
	"testing"
)

func mustFramework(t testing.TB, s string) Framework {
	t.Helper()
	f, err := ParseFramework(s)
	if err != nil {
		t.Fatalf("ParseFramework(%q): %v", s, err)
	}
	return f
}

// TestParseFramework covers the monikers of the "Target frameworks" page
// in their short, long and component forms.
func TestParseFramework(t *testing.T) {
	tests := []struct {
		in, short, id string
		version       FrameworkVersion
	}{
		{"net10.0", "net10.0", FrameworkNETCoreApp, FrameworkVersion{10}},
		{"net9.0", "net9.0", FrameworkNETCoreApp, FrameworkVersion{9}},
		{"net8.0", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{"NET8.0", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{" net8.0 ", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{"net80", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{"net7.0", "net7.0", FrameworkNETCoreApp, FrameworkVersion{7}},
		{"net6.0", "net6.0", FrameworkNETCoreApp, FrameworkVersion{6}},
		{"net5.0", "net5.0", FrameworkNETCoreApp, FrameworkVersion{5}},
		{"net5", "net5.0", FrameworkNETCoreApp, FrameworkVersion{5}},
		{"netcoreapp5.0", "net5.0", FrameworkNETCoreApp, FrameworkVersion{5}},
		{"netcoreapp3.1", "netcoreapp3.1", FrameworkNETCoreApp, FrameworkVersion{3, 1}},
		{"netcoreapp31", "netcoreapp3.1", FrameworkNETCoreApp, FrameworkVersion{3, 1}},
		{"netcoreapp3.0", "netcoreapp3.0", FrameworkNETCoreApp, FrameworkVersion{3}},
		{"netcoreapp2.2", "netcoreapp2.2", FrameworkNETCoreApp, FrameworkVersion{2, 2}},
		{"netcoreapp2.1", "netcoreapp2.1", FrameworkNETCoreApp, FrameworkVersion{2, 1}},
		{"netcoreapp2.0", "netcoreapp2.0", FrameworkNETCoreApp, FrameworkVersion{2}},
		{"netcoreapp1.1", "netcoreapp1.1", FrameworkNETCoreApp, FrameworkVersion{1, 1}},
		{"netcoreapp1.0", "netcoreapp1.0", FrameworkNETCoreApp, FrameworkVersion{1}},
		{".NETCoreApp,Version=v3.1", "netcoreapp3.1", FrameworkNETCoreApp, FrameworkVersion{3, 1}},
		{".NETCoreApp,Version=v8.0", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{".NETCoreApp8.0", "net8.0", FrameworkNETCoreApp, FrameworkVersion{8}},
		{"netstandard2.1", "netstandard2.1", FrameworkNETStandard, FrameworkVersion{2, 1}},
		{"netstandard2.0", "netstandard2.0", FrameworkNETStandard, FrameworkVersion{2}},
		{"netstandard20", "netstandard2.0", FrameworkNETStandard, FrameworkVersion{2}},
		{"netstandard1.6", "netstandard1.6", FrameworkNETStandard, FrameworkVersion{1, 6}},
		{"netstandard1.0", "netstandard1.0", FrameworkNETStandard, FrameworkVersion{1}},
		{".NETStandard,Version=v2.0", "netstandard2.0", FrameworkNETStandard, FrameworkVersion{2}},
		{".NETStandard2.0", "netstandard2.0", FrameworkNETStandard, FrameworkVersion{2}},
		// NuGet reads a component only when it starts with "Version=".
		{".netstandard , Version = v2.0", "netstandard", FrameworkNETStandard, FrameworkVersion{}},
		{".netstandard , version=v2.0", "netstandard2.0", FrameworkNETStandard, FrameworkVersion{2}},
		{"netstandard", "netstandard", FrameworkNETStandard, FrameworkVersion{}},
		{"net481", "net481", FrameworkNET, FrameworkVersion{4, 8, 1}},
		{"net48", "net48", FrameworkNET, FrameworkVersion{4, 8}},
		{"net472", "net472", FrameworkNET, FrameworkVersion{4, 7, 2}},
		{"net471", "net471", FrameworkNET, FrameworkVersion{4, 7, 1}},
		{"net47", "net47", FrameworkNET, FrameworkVersion{4, 7}},
		{"net462", "net462", FrameworkNET, FrameworkVersion{4, 6, 2}},
		{"net461", "net461", FrameworkNET, FrameworkVersion{4, 6, 1}},
		{"net46", "net46", FrameworkNET, FrameworkVersion{4, 6}},
		{"net452", "net452", FrameworkNET, FrameworkVersion{4, 5, 2}},
		{"net451", "net451", FrameworkNET, FrameworkVersion{4, 5, 1}},
		{"net45", "net45", FrameworkNET, FrameworkVersion{4, 5}},
		{"net403", "net403", FrameworkNET, FrameworkVersion{4, 0, 3}},
		{"net40", "net40", FrameworkNET, FrameworkVersion{4}},
		{"net4", "net40", FrameworkNET, FrameworkVersion{4}},
		{"net35", "net35", FrameworkNET, FrameworkVersion{3, 5}},
		{"net20", "net20", FrameworkNET, FrameworkVersion{2}},
		{"net11", "net11", FrameworkNET, FrameworkVersion{1, 1}},
		{"net4.7.2", "net472", FrameworkNET, FrameworkVersion{4, 7, 2}},
		{"net", "net", FrameworkNET, FrameworkVersion{}},
		{".NETFramework4.7.2", "net472", FrameworkNET, FrameworkVersion{4, 7, 2}},
		{".NETFramework,Version=v4.7.2", "net472", FrameworkNET, FrameworkVersion{4, 7, 2}},
		{".NETFramework,Version=v4.5", "net45", FrameworkNET, FrameworkVersion{4, 5}},
		{".NETFramework,Version=v4", "net40", FrameworkNET, FrameworkVersion{4}},
		{"NETFramework,Version=v4.8", "net48", FrameworkNET, FrameworkVersion{4, 8}},
		{"45", "net45", FrameworkNET, FrameworkVersion{4, 5}},
		{"4.0", "net40", FrameworkNET, FrameworkVersion{4}},
		{"35", "net35", FrameworkNET, FrameworkVersion{3, 5}},
		{"2.0", "net20", FrameworkNET, FrameworkVersion{2}},
		{"native", "native", FrameworkNative, FrameworkVersion{}},
		{"Native", "native", FrameworkNative, FrameworkVersion{}},
		{"any", "any", "", FrameworkVersion{}},
		{"Any", "any", "", FrameworkVersion{}},
		{"agnostic", "agnostic", FrameworkAgnostic, FrameworkVersion{}},
	}
	for _, tt := range tests {
		f, err := ParseFramework(tt.in)
		if err != nil {
			t.Errorf("ParseFramework(%q): %v", tt.in, err)
			continue
		}
		if got := f.String(); got != tt.short {
			t.Errorf("ParseFramework(%q).String() = %q, want %q", tt.in, got, tt.short)
		}
		if f.ID != tt.id {
			t.Errorf("ParseFramework(%q).ID = %q, want %q", tt.in, f.ID, tt.id)
		}
		if tt.version != (FrameworkVersion{}) && f.Version != tt.version {
			t.Errorf("ParseFramework(%q).Version = %v, want %v", tt.in, f.Version, tt.version)
		}
		back, err := ParseFramework(f.String())
		if err != nil || back != f {
			t.Errorf("short name %q of %q parses to %+v, %v; want %+v", f.String(), tt.in, back, err, f)
		}
	}
}

func TestParseFrameworkPlatformsAndProfiles(t *testing.T) {
	tests := []struct {
		in, short, platform, profile string
		platformVersion              FrameworkVersion
	}{
		{"net8.0-windows", "net8.0-windows", "windows", "", FrameworkVersion{}},
		{"net8.0-Windows", "net8.0-windows", "windows", "", FrameworkVersion{}},
		{"net8.0-windows7.0", "net8.0-windows7.0", "windows", "", FrameworkVersion{7}},
		{"net8.0-windows10.0.19041", "net8.0-windows10.0.19041", "windows", "", FrameworkVersion{10, 0, 19041}},
		{"net8.0-windows10.0.19041.0", "net8.0-windows10.0.19041", "windows", "", FrameworkVersion{10, 0, 19041}},
		{"net6.0-android", "net6.0-android", "android", "", FrameworkVersion{}},
		{"net6.0-android31.0", "net6.0-android31.0", "android", "", FrameworkVersion{31}},
		{"net7.0-ios16.1", "net7.0-ios16.1", "ios", "", FrameworkVersion{16, 1}},
		{"net8.0-maccatalyst", "net8.0-maccatalyst", "maccatalyst", "", FrameworkVersion{}},
		{"net5.0-windows", "net5.0-windows", "windows", "", FrameworkVersion{}},
		{"net40-client", "net40-client", "", "Client", FrameworkVersion{}},
		{"net40-Client", "net40-client", "", "Client", FrameworkVersion{}},
		{"net40-full", "net40-full", "", "Full", FrameworkVersion{}},
		{".NETFramework,Version=v4.0,Profile=Client", "net40-client", "", "Client", FrameworkVersion{}},
	}
	for _, tt := range tests {
		f := mustFramework(t, tt.in)
		if f.String() != tt.short || f.Platform != tt.platform || f.Profile != tt.profile || f.PlatformVersion != tt.platformVersion {
			t.Errorf("ParseFramework(%q) = %+v (%q)", tt.in, f, f.String())
		}
		if back := mustFramework(t, f.String()); back != f {
			t.Errorf("short name %q of %q parses to %+v", f.String(), tt.in, back)
		}
	}
}

func TestParseFrameworkInvalid(t *testing.T) {
	for _, in := range []string{
		"", " ", "net8.0-", "net8.0 windows", "net8.0_x", "netstandard2.0.", "net8.0-windows10.x",
		"net8.0-windows1.2.3.4.5", "8", "12", "-net", ".NETFramework,Version=vX", ".NETFramework,Version=v4.a",
		"net4.7.2.1.0", "net8.0-win/dows", strings.Repeat("n", 300),
	} {
		if f, err := ParseFramework(in); err == nil {
			t.Errorf("ParseFramework(%q) = %q, want an error", in, f)
		} else if !strings.HasPrefix(err.Error(), "nuget: ") {
			t.Errorf("ParseFramework(%q) error %q lacks the package prefix", in, err)
		}
	}
	for _, in := range []string{
		"monoandroid10.0", "xamarinios10", "Xamarin.iOS10", "uap10.0", "portable-net45+win8", "win8", "wp8",
		"sl5", "netcore45", "tizen40", "dotnet5.4", "foo1.0", ".NETPortable,Version=v0.0,Profile=Profile259",
		"unsupported", "netmf",
	} {
		_, err := ParseFramework(in)
		if !errors.Is(err, ErrUnsupportedFramework) {
			t.Errorf("ParseFramework(%q) = %v, want ErrUnsupportedFramework", in, err)
		}
	}
}

func TestFrameworkEqual(t *testing.T) {
	a := mustFramework(t, "net8.0-windows")
	b := Framework{ID: ".netcoreapp", Version: FrameworkVersion{8}, Platform: "WINDOWS"}
	if !a.Equal(b) || !b.Equal(a) {
		t.Errorf("%+v and %+v differ", a, b)
	}
	for _, other := range []string{"net8.0", "net8.0-windows7.0", "net7.0-windows", "netcoreapp3.1"} {
		if a.Equal(mustFramework(t, other)) {
			t.Errorf("net8.0-windows equals %s", other)
		}
	}
	if !mustFramework(t, "net40-client").Equal(Framework{ID: FrameworkNET, Version: FrameworkVersion{4}, Profile: "client"}) {
		t.Error("profile compared with case")
	}
	if (Framework{}).String() != "any" || !AnyFramework.IsAny() {
		t.Error("the zero Framework is not any")
	}
}

func TestCompatible(t *testing.T) {
	compatible := map[string]string{
		"net10.0":                  "net10.0 net9.0 net8.0 net5.0 netcoreapp3.1 netcoreapp1.0 netstandard2.1 netstandard1.0 any agnostic",
		"net8.0":                   "net8.0 net7.0 net6.0 net5.0 netcoreapp3.1 netcoreapp3.0 netcoreapp2.1 netcoreapp1.0 netstandard2.1 netstandard2.0 netstandard1.6 netstandard1.0 netstandard any",
		"net8.0-windows":           "net8.0-windows net7.0-windows net8.0 net7.0 net5.0 netcoreapp3.1 netstandard2.1 netstandard2.0 any",
		"net8.0-windows10.0.19041": "net8.0-windows10.0.19041 net8.0-windows10.0.17763 net8.0-windows7.0 net8.0-windows net8.0 netstandard2.0",
		"net6.0-android":           "net6.0-android net6.0 net5.0 netstandard2.1 any",
		"netcoreapp3.1":            "netcoreapp3.1 netcoreapp3.0 netcoreapp2.1 netstandard2.1 netstandard2.0 any",
		"netcoreapp2.1":            "netcoreapp2.1 netcoreapp2.0 netstandard2.0 netstandard1.6",
		"netcoreapp1.1":            "netcoreapp1.0 netstandard1.7 netstandard1.6",
		"netcoreapp1.0":            "netcoreapp1.0 netstandard1.6 netstandard1.0",
		"netstandard2.1":           "netstandard2.1 netstandard2.0 netstandard1.0 any",
		"netstandard2.0":           "netstandard2.0 netstandard1.6 netstandard1.3 netstandard1.0 any",
		"netstandard1.3":           "netstandard1.3 netstandard1.0",
		"net481":                   "net481 net48 net472 net462 net461 net46 net45 net40 net35 net20 net40-client netstandard2.0 netstandard1.6 any",
		"net472":                   "net472 net471 net47 net462 net461 net46 net452 net451 net45 net403 net40 net40-client net40-full net35 net20 net11 netstandard2.0 netstandard1.6 netstandard1.0 any",
		"net461":                   "net461 net45 netstandard2.0 netstandard1.4",
		"net46":                    "net46 net45 netstandard1.3 netstandard1.0",
		"net451":                   "net451 netstandard1.2",
		"net45":                    "net45 net40 netstandard1.1 netstandard1.0",
		"net40":                    "net40 net40-client net35",
		"net40-client":             "net40 net40-client net35",
		"native":                   "native any agnostic",
		"any":                      "net8.0 net472 netstandard2.0 native net8.0-windows",
	}
	incompatible := map[string]string{
		"net10.0":                  "net472 native",
		"net8.0":                   "net9.0 net10.0 net472 net48 net8.0-windows net7.0-windows net8.0-android native netstandard2.2",
		"net8.0-windows":           "net8.0-android net9.0 net8.0-windows7.0 net472",
		"net8.0-windows10.0.19041": "net8.0-windows10.0.22621 net8.0-ios",
		"net6.0-android":           "net6.0-ios net6.0-windows net7.0",
		"netcoreapp3.1":            "net5.0 net472 netstandard2.2",
		"netcoreapp2.1":            "netstandard2.1 netcoreapp2.2 netcoreapp3.0",
		"netcoreapp1.0":            "netstandard2.0 netcoreapp1.1",
		"netstandard2.1":           "netstandard2.2 net8.0 netcoreapp3.0",
		"netstandard2.0":           "netstandard2.1 net461 netcoreapp2.0 net8.0",
		"net481":                   "netstandard2.1 net5.0 netcoreapp2.0",
		"net472":                   "net48 net481 netstandard2.1 netcoreapp2.0 net5.0 native",
		"net461":                   "net462 netstandard2.1",
		"net46":                    "netstandard1.4 netstandard2.0 net461",
		"net451":                   "netstandard1.3 net452",
		"net45":                    "netstandard1.2 net451",
		"net40":                    "netstandard1.0 net45 net403",
		"native":                   "net8.0 net472 netstandard2.0",
	}
	for project, list := range compatible {
		p := mustFramework(t, project)
		for _, g := range strings.Fields(list) {
			if !Compatible(p, mustFramework(t, g)) {
				t.Errorf("Compatible(%s, %s) = false, want true", project, g)
			}
		}
	}
	for project, list := range incompatible {
		p := mustFramework(t, project)
		for _, g := range strings.Fields(list) {
			if Compatible(p, mustFramework(t, g)) {
				t.Errorf("Compatible(%s, %s) = true, want false", project, g)
			}
		}
	}
}

// TestNearest follows the precedence the brief and NuGet's reducer give:
// the same framework first, then older versions of it, then .NET Standard,
// then "any"; a platform project prefers its platform, then the plain
// framework of the highest version.
func TestNearest(t *testing.T) {
	tests := []struct {
		project, groups, want string // want "" means none
	}{
		{"net8.0", "net472 netstandard2.0 net6.0 netstandard2.1", "net6.0"},
		{"net8.0", "netstandard2.0 net8.0 net7.0", "net8.0"},
		{"net8.0", "netstandard2.0 netstandard2.1 netcoreapp3.1", "netcoreapp3.1"},
		{"net8.0", "netcoreapp2.1 net5.0 netcoreapp3.1", "net5.0"},
		{"net8.0", "netstandard2.0 netstandard1.6", "netstandard2.0"},
		{"net8.0", "any netstandard2.0", "netstandard2.0"},
		{"net8.0", "any", "any"},
		{"net8.0", "net9.0 net472", ""},
		{"net8.0", "", ""},
		{"net8.0", "net8.0-windows net7.0", "net7.0"},
		{"net8.0", "net8.0-windows", ""},
		{"net8.0-windows", "net8.0-windows net8.0", "net8.0-windows"},
		{"net8.0-windows", "net8.0 net7.0-windows", "net8.0"},
		{"net8.0-windows", "net7.0-windows net6.0", "net7.0-windows"},
		{"net8.0-windows", "netstandard2.0 net6.0", "net6.0"},
		{"net8.0-windows10.0.19041", "net8.0-windows net8.0-windows10.0.17763 net8.0", "net8.0-windows10.0.17763"},
		{"net472", "net45 netstandard2.0", "net45"},
		{"net472", "net48 netstandard2.0", "netstandard2.0"},
		{"net472", "net40 net40-client", "net40"},
		{"net472", "net40-client", "net40-client"},
		{"net472", "netstandard1.6 netstandard2.0 any", "netstandard2.0"},
		{"net461", "netstandard1.6 netstandard2.0 net45", "net45"},
		{"net46", "netstandard2.0 netstandard1.3", "netstandard1.3"},
		{"net45", "netstandard2.0 netstandard1.3", ""},
		{"netstandard2.0", "netstandard1.6 netstandard2.0 net461", "netstandard2.0"},
		{"netstandard2.0", "netstandard1.3 netstandard1.6", "netstandard1.6"},
		{"netstandard2.0", "net461 netcoreapp2.0", ""},
		{"netcoreapp3.1", "netcoreapp2.1 netstandard2.1", "netcoreapp2.1"},
		{"netcoreapp2.1", "netstandard2.1 netstandard2.0", "netstandard2.0"},
		{"native", "native net45", "native"},
		{"native", "net45", ""},
	}
	for _, tt := range tests {
		p := mustFramework(t, tt.project)
		var groups []Framework
		for _, g := range strings.Fields(tt.groups) {
			groups = append(groups, mustFramework(t, g))
		}
		got, ok := Nearest(p, groups)
		switch {
		case tt.want == "" && ok:
			t.Errorf("Nearest(%s, %s) = %s, want none", tt.project, tt.groups, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("Nearest(%s, %s) = %s (%v), want %s", tt.project, tt.groups, got, ok, tt.want)
		}
		// The answer does not depend on the order of the groups.
		for i, j := 0, len(groups)-1; i < j; i, j = i+1, j-1 {
			groups[i], groups[j] = groups[j], groups[i]
		}
		if again, ok2 := Nearest(p, groups); ok2 != ok || !again.Equal(got) {
			t.Errorf("Nearest(%s, %s) depends on order: %s then %s", tt.project, tt.groups, got, again)
		}
	}
}

// TestNearestChain walks the precedence chains of the brief: removing the
// chosen group each time must yield the next one in order.
func TestNearestChain(t *testing.T) {
	chains := map[string]string{
		"net8.0":          "net8.0 net7.0 net6.0 net5.0 netcoreapp3.1 netcoreapp3.0 netcoreapp2.2 netcoreapp2.1 netcoreapp2.0 netcoreapp1.1 netcoreapp1.0 netstandard2.1 netstandard2.0 netstandard1.6 netstandard1.5 netstandard1.4 netstandard1.3 netstandard1.2 netstandard1.1 netstandard1.0 any",
		"net472":          "net472 net471 net47 net462 net461 net46 net452 net451 net45 net40 net35 net20 netstandard2.0 netstandard1.6 netstandard1.0 any",
		"netstandard2.0":  "netstandard2.0 netstandard1.6 netstandard1.5 netstandard1.4 netstandard1.3 netstandard1.2 netstandard1.1 netstandard1.0 any",
		"net8.0-windows":  "net8.0-windows net8.0 net7.0-windows net7.0 net6.0 netstandard2.1 any",
		"net9.0-android":  "net9.0-android net9.0 net8.0-android net8.0 netcoreapp3.1 netstandard2.0 any",
		"netcoreapp3.1":   "netcoreapp3.1 netcoreapp2.1 netstandard2.1 netstandard2.0 any",
		"net10.0-windows": "net10.0-windows net10.0 net9.0-windows net9.0 net8.0 any",
	}
	for project, chain := range chains {
		p := mustFramework(t, project)
		order := strings.Fields(chain)
		var groups []Framework
		for i := len(order) - 1; i >= 0; i-- {
			groups = append(groups, mustFramework(t, order[i]))
		}
		for _, want := range order {
			got, ok := Nearest(p, groups)
			if !ok || got.String() != want {
				t.Errorf("%s: nearest of the rest = %s (%v), want %s", project, got, ok, want)
				break
			}
			var rest []Framework
			for _, g := range groups {
				if !g.Equal(got) {
					rest = append(rest, g)
				}
			}
			groups = rest
		}
	}
}

func FuzzParseFramework(f *testing.F) {
	for _, s := range []string{
		"net8.0", "net8.0-windows10.0.19041", "net472", "netstandard2.0", "netcoreapp3.1", ".NETStandard,Version=v2.0",
		".NETFramework4.7.2", "native", "any", "net40-client", "45", ".NETFramework,Version=v4.0,Profile=Client", "net10",
	} {
		f.Add(s)
	}
	net8 := Framework{ID: FrameworkNETCoreApp, Version: FrameworkVersion{8}}
	f.Fuzz(func(t *testing.T, s string) {
		fw, err := ParseFramework(s)
		if err != nil {
			return
		}
		short := fw.String()
		back, err := ParseFramework(short)
		if err != nil {
			t.Fatalf("ParseFramework(%q) prints %q, which does not parse: %v", s, short, err)
		}
		if back.String() != short {
			t.Fatalf("short name of %q is not stable: %q then %q", s, short, back.String())
		}
		if !Compatible(fw, fw) {
			t.Fatalf("%q is not compatible with itself", s)
		}
		if got, ok := Nearest(fw, []Framework{net8, fw, AnyFramework}); !ok || !got.Equal(fw) {
			t.Fatalf("Nearest(%q) with an exact group = %v, %v", s, got, ok)
		}
	})
}
