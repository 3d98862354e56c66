package nuget

import (
	"sort"
	"strings"
)

// standardFor lists, newest first, the .NET Standard version a framework
// version implements (NuGet's DefaultFrameworkMappings compatibility
// mappings): .NET Framework 4.6.1 and later take netstandard2.0 (with the
// shims NuGet assumes), .NET Core 3.0 and .NET 5+ take netstandard2.1.
var standardFor = map[string][]struct{ from, standard FrameworkVersion }{
	FrameworkNET: {
		{FrameworkVersion{4, 6, 1}, FrameworkVersion{2, 0}},
		{FrameworkVersion{4, 6}, FrameworkVersion{1, 3}},
		{FrameworkVersion{4, 5, 1}, FrameworkVersion{1, 2}},
		{FrameworkVersion{4, 5}, FrameworkVersion{1, 1}},
	},
	FrameworkNETCoreApp: {
		{FrameworkVersion{3, 0}, FrameworkVersion{2, 1}},
		{FrameworkVersion{2, 0}, FrameworkVersion{2, 0}},
		{FrameworkVersion{1, 1}, FrameworkVersion{1, 7}},
		{FrameworkVersion{1, 0}, FrameworkVersion{1, 6}},
	},
}

// canonicalID returns the covered identifier f.ID stands for, ignoring case.
func (f Framework) canonicalID() string {
	for _, id := range []string{FrameworkNET, FrameworkNETCoreApp, FrameworkNETStandard, FrameworkNative, FrameworkAgnostic} {
		if strings.EqualFold(f.ID, id) {
			return id
		}
	}
	return f.ID
}

// sameID reports whether f and g have the same identifier (NuGet's
// NuGetFrameworkNameComparer).
func sameID(f, g Framework) bool { return strings.EqualFold(f.ID, g.ID) }

// equivalentProfile drops the .NETFramework profiles NuGet treats as the
// full framework ("Client", "Full").
func equivalentProfile(f Framework) Framework {
	if f.canonicalID() == FrameworkNET && (strings.EqualFold(f.Profile, "Client") || strings.EqualFold(f.Profile, "Full")) {
		f.Profile = ""
	}
	return f
}

// Compatible reports whether a project targeting project can use assets or
// dependencies written for pkg (NuGet's CompatibilityProvider.IsCompatible):
//
//   - "any" on either side is compatible, and so is an "agnostic" pkg;
//   - same identifier, pkg version no newer than the project's (a pkg
//     without version fits every version), same profile (.NETFramework's
//     Client and Full profiles count as none);
//   - .NETFramework and .NETCoreApp projects also take the .NET Standard
//     versions they implement: net45 → netstandard1.1, net451 → 1.2,
//     net46 → 1.3, net461 and later → 2.0; netcoreapp1.0 → 1.6,
//     netcoreapp1.1 → 1.7, netcoreapp2.x → 2.0, netcoreapp3.0 and net5.0+ → 2.1;
//   - a pkg with a platform (net8.0-windows) fits only projects with that
//     platform and a platform version at least the pkg's, so net8.0 does
//     not take net8.0-windows while net8.0-windows takes net8.0.
func Compatible(project, pkg Framework) bool {
	if project.Equal(pkg) {
		return true
	}
	if project.IsAny() || pkg.IsAny() {
		return true
	}
	if pkg.canonicalID() == FrameworkAgnostic {
		return true
	}
	project, pkg = equivalentProfile(project), equivalentProfile(pkg)
	for _, target := range expandFramework(project) {
		if compatibleCore(target, pkg) {
			return true
		}
	}
	return false
}

// expandFramework returns f and the .NET Standard version it implements.
func expandFramework(f Framework) []Framework {
	out := []Framework{f}
	if f.Profile != "" {
		return out // NuGet maps only profile-less frameworks to .NET Standard
	}
	for _, m := range standardFor[f.canonicalID()] {
		if f.Version.compare(m.from) >= 0 {
			return append(out, Framework{ID: FrameworkNETStandard, Version: m.standard})
		}
	}
	return out
}

func compatibleCore(target, pkg Framework) bool {
	net6Era := target.isNet5Era() && target.Version[0] >= 6
	if net6Era && target.Platform != "" && !sameID(target, pkg) {
		// NuGet lets net6.0-android take monoandroid and net6.0-tizen take
		// tizen; neither is covered, so nothing else fits.
		return false
	}
	ok := sameID(target, pkg) && versionFits(target.Version, pkg.Version) &&
		strings.EqualFold(target.Profile, pkg.Profile)
	if target.isNet5Era() && pkg.Platform != "" {
		ok = ok && strings.EqualFold(target.Platform, pkg.Platform) &&
			versionFits(target.PlatformVersion, pkg.PlatformVersion)
	}
	return ok
}

func versionFits(target, candidate FrameworkVersion) bool {
	return candidate.isZero() || candidate.compare(target) <= 0
}

// isPackageBased reports whether f gets its libraries from packages
// (.NET Standard, .NET Core); NuGet prefers other groups for a project that
// is not package based.
func (f Framework) isPackageBased() bool {
	id := f.canonicalID()
	return id == FrameworkNETStandard || id == FrameworkNETCoreApp
}

// Nearest picks, from the frameworks of a package's groups (dependency
// groups, lib/ folders), the one a project targeting project uses, as
// NuGet's FrameworkReducer.GetNearest does; false when none is compatible:
//
//  1. an exact match wins;
//  2. otherwise, among the compatible groups, a group is dropped when
//     another one is more specific (the other can use it, it cannot use the
//     other): net8.0 beats net7.0, netcoreapp3.1 beats netstandard2.1,
//     netstandard2.0 beats netstandard1.6, anything beats "any";
//  3. if several remain, those with the project's own identifier are
//     kept (net472 takes net45 over netstandard2.0), then groups without a
//     profile over groups with one, and for a project with a platform the
//     highest framework version (net8.0-windows takes net8.0 over
//     net7.0-windows);
//  4. a remaining tie, which NuGet settles by its precedence order, is
//     settled by the highest version and then the short name.
//
// Groups that repeat a framework count once; the first of them is returned.
func Nearest(project Framework, groups []Framework) (Framework, bool) {
	for _, g := range groups {
		if project.Equal(g) {
			return g, true
		}
	}
	var compatible []Framework
	for _, g := range groups {
		if Compatible(project, g) && !containsFramework(compatible, g) {
			compatible = append(compatible, g)
		}
	}
	if len(compatible) == 0 {
		return Framework{}, false
	}
	reduced := reduceUpwards(compatible)
	filter := func(keep func(Framework) bool) {
		var out []Framework
		for _, f := range reduced {
			if keep(f) {
				out = append(out, f)
			}
		}
		if len(out) > 0 {
			reduced = out
		}
	}
	if len(reduced) > 1 {
		filter(func(f Framework) bool { return sameID(f, project) })
	}
	if len(reduced) > 1 && !project.isPackageBased() {
		filter(func(f Framework) bool { return !f.isPackageBased() })
	}
	if len(reduced) > 1 && project.Profile != "" {
		filter(func(f Framework) bool { return sameID(f, project) && strings.EqualFold(f.Profile, project.Profile) })
	}
	if len(reduced) > 1 {
		filter(func(f Framework) bool { return f.Profile == "" })
	}
	if len(reduced) > 1 && project.Platform != "" {
		net6Era := project.isNet5Era() && project.Version[0] >= 6
		modern := false
		for _, f := range reduced {
			if sameID(f, project) && f.Version[0] >= 6 {
				modern = true
			}
		}
		if !net6Era || modern {
			filter(func(f Framework) bool { return sameID(f, project) })
			var top FrameworkVersion
			for _, f := range reduced {
				if f.Version.compare(top) > 0 {
					top = f.Version
				}
			}
			filter(func(f Framework) bool { return f.Version == top })
		}
	}
	if len(reduced) > 1 {
		sort.SliceStable(reduced, func(i, j int) bool {
			if c := reduced[i].Version.compare(reduced[j].Version); c != 0 {
				return c > 0
			}
			return reduced[i].String() < reduced[j].String()
		})
	}
	return reduced[0], true
}

func containsFramework(list []Framework, f Framework) bool {
	for _, g := range list {
		if g.Equal(f) {
			return true
		}
	}
	return false
}

// reduceUpwards drops "any" unless it is alone, then every framework that
// another one in the list can use while it cannot use the other (NuGet's
// ReduceUpwards); of two frameworks that can use each other and share an
// identifier, the one without version goes.
func reduceUpwards(list []Framework) []Framework {
	var specific []Framework
	for _, f := range list {
		if !f.IsAny() {
			specific = append(specific, f)
		}
	}
	if len(specific) == 0 {
		return list[:1]
	}
	var out []Framework
	for i, x := range specific {
		dropped := false
		for j, y := range specific {
			if i == j || !Compatible(y, x) {
				continue
			}
			if !Compatible(x, y) || (sameID(x, y) && x.Version.isZero() && !y.Version.isZero()) {
				dropped = true
				break
			}
		}
		if !dropped {
			out = append(out, x)
		}
	}
	return out
}
