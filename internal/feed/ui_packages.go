package feed

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// The public pages: the home page, search and browse, and package pages
// with their versions and signatures, read from the store as the protocol
// handlers read it.

// Bounds of the lists.
const (
	// homeTake is how many of the newest packages the home page shows.
	homeTake = 10
	// listTake is a page of /packages.
	listTake = store.DefaultBrowseTake
	// maxListPage bounds the page number of /packages, so that a link
	// cannot ask the store for a huge OFFSET.
	maxListPage = 10000
)

// listRow is a package in a list.
type listRow struct {
	ID          string
	Version     string
	Description string
	Authors     []string
	Owners      []string
	Downloads   int64
	Updated     time.Time
	Signature   sigView
}

// listData is the home page's and /packages' data.
type listData struct {
	Results    []listRow
	Total      int
	Page       int
	Pages      int
	Prerelease bool
	// PrevURL and NextURL link the neighbouring pages ("" at the ends).
	PrevURL, NextURL string
}

// handleHome is GET /: a search box and the newest packages.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	page, err := s.store.Browse(r.Context(), store.BrowseQuery{Prerelease: true, Take: homeTake})
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d := listData{Total: page.Total, Results: listRows(page)}
	s.render(w, r, http.StatusOK, "home", a, &uiPage{Title: "Packages", HideSearch: true, Data: d})
}

func listRows(page store.BrowsePage) []listRow {
	out := make([]listRow, 0, len(page.Results))
	for _, res := range page.Results {
		row := listRow{ID: res.Package.ID, Version: res.Latest.Version, Description: res.Latest.Description,
			Authors: splitAuthors(res.Latest.Authors), Downloads: res.Downloads, Updated: res.Updated,
			Signature: newSigView(versionSignature(res.Latest))}
		for _, o := range res.Package.Owners {
			row.Owners = append(row.Owners, o.Name)
		}
		out = append(out, row)
	}
	return out
}

// handlePackages is GET /packages?q=&page=&prerelease=: search and
// browse, newest first.
func (s *Server) handlePackages(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	qv := r.URL.Query()
	q := strings.TrimSpace(qv.Get("q"))
	pageNo, err := strconv.Atoi(qv.Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	pageNo = min(pageNo, maxListPage)
	// Prerelease versions are shown unless the form's checkbox is off: the
	// form sends prerelease=0, then prerelease=1 when it is checked.
	pre := true
	if vals, ok := qv["prerelease"]; ok {
		pre = vals[len(vals)-1] == "1"
	}
	if len(strings.Fields(q)) > store.MaxSearchTerms {
		s.render(w, r, http.StatusBadRequest, "packages", a, &uiPage{Title: "Packages", HideSearch: true,
			Error: fmt.Sprintf("Use at most %d search terms.", store.MaxSearchTerms), Data: listData{Prerelease: pre}})
		return
	}
	page, err := s.store.Browse(r.Context(), store.BrowseQuery{Terms: q, Prerelease: pre, Skip: (pageNo - 1) * listTake, Take: listTake})
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	d := listData{Results: listRows(page), Total: page.Total, Page: pageNo, Prerelease: pre,
		Pages: (page.Total + listTake - 1) / listTake}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if !pre {
			v.Set("prerelease", "0")
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return s.prefix + "/packages"
		}
		return s.prefix + "/packages?" + v.Encode()
	}
	if pageNo > 1 {
		d.PrevURL = link(min(pageNo-1, max(d.Pages, 1)))
	}
	if pageNo < d.Pages {
		d.NextURL = link(pageNo + 1)
	}
	title := "Packages"
	if q != "" {
		title = "Search: " + q
	}
	s.render(w, r, http.StatusOK, "packages", a, &uiPage{Title: title, Query: q, HideSearch: true, Data: d})
}

// sigView is a version's signature as a page shows it.
type sigView struct {
	// Status is the API's: valid, grace, invalid, unsigned (the feed's
	// repository signature only) or none.
	Status string
	// Label is the badge's text, Class its colour (good, warn, bad,
	// neutral).
	Label, Class string
	*signatureJSON
}

func newSigView(sig *signatureJSON) sigView {
	v := sigView{Status: sig.Status, signatureJSON: sig}
	switch sig.Status {
	case "valid":
		v.Label, v.Class = "Signed", "good"
	case "grace":
		v.Label, v.Class = "Signed · certificate revoked later", "warn"
	case "invalid":
		v.Label, v.Class = "Signature invalid", "bad"
	case "unsigned":
		v.Label, v.Class = "Not author-signed", "neutral"
	default:
		v.Label, v.Class = "Not signed", "neutral"
	}
	return v
}

// RevocationWord is the author certificate's revocation status for the
// page: good, unknown, revoked or grace.
func (v sigView) RevocationWord() string {
	if v.signatureJSON == nil || v.Author == nil {
		return ""
	}
	switch {
	case v.Status == "grace":
		return "grace (revoked after the signature's timestamp)"
	case v.Revocation == "":
		return "unknown"
	}
	return v.Revocation
}

// versionLine is a row of the versions table.
type versionLine struct {
	Version   string
	Published time.Time
	Downloads int64
	Listed    bool
	Current   bool
	Signature sigView
	// SignedBefore names an older version that was signed, when this one
	// is not author-signed.
	SignedBefore string
}

// depGroupView is a dependency group.
type depGroupView struct {
	Framework    string
	Dependencies []depView
}

type depView struct {
	ID, Range string
}

// packageData is a package page's.
type packageData struct {
	ID             string
	Version        store.Version
	Extra          extra
	Authors        []string
	Owners         []store.Account
	RequiredSigner string
	Manage         bool
	Latest         string
	Downloads      int64
	VersionDLs     int64
	Groups         []depGroupView
	Readme         template.HTML
	Versions       []versionLine
	Current        versionLine
	DownloadURL    string
	ProjectURL     string
	LicenseURL     string
	RepositoryURL  string
}

// handlePackagePage is GET /packages/{id} (its latest version) and
// /packages/{id}/{version}.
func (s *Server) handlePackagePage(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	ctx := r.Context()
	id, want := r.PathValue("id"), r.PathValue("version")
	p, err := s.store.Package(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, a, http.StatusNotFound, fmt.Sprintf("There is no package %q on this feed.", id))
		return
	}
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	vs, err := s.store.Versions(ctx, p.ID)
	if err != nil || len(vs) == 0 {
		s.uiInternal(w, r, a, fmt.Errorf("feed: versions of %q: %w", p.ID, err))
		return
	}
	latest := latestVersion(vs)
	cur := latest
	if want != "" {
		nv := normalVersion(want)
		cur = -1
		for i, v := range vs {
			if strings.EqualFold(v.Version, nv) {
				cur = i
			}
		}
		if cur < 0 {
			s.errorPage(w, r, a, http.StatusNotFound, fmt.Sprintf("There is no version %q of %s on this feed.", want, p.ID))
			return
		}
	}
	counts, total, err := s.store.Downloads(ctx, p.ID)
	if err != nil {
		s.uiInternal(w, r, a, err)
		return
	}
	v := vs[cur]
	d := packageData{ID: p.ID, Version: v, Owners: p.Owners, Authors: splitAuthors(v.Authors), Latest: vs[latest].Version,
		Downloads: total, VersionDLs: counts[v.Version], DownloadURL: s.contentURL(v.PackageID, v.Version)}
	jsonUnmarshal(v.Extra, &d.Extra)
	d.ProjectURL, d.LicenseURL, d.RepositoryURL = webURL(d.Extra.ProjectURL), webURL(d.Extra.LicenseURL), webURL(d.Extra.RepositoryURL)
	for _, o := range p.Owners {
		if o.ID == p.RequiredSigner {
			d.RequiredSigner = o.Name
		}
	}
	if a != nil {
		if d.Manage, err = s.manages(ctx, a, p.Owners); err != nil {
			s.uiInternal(w, r, a, err)
			return
		}
	}
	var groups []depGroup
	jsonUnmarshal(v.DependencyGroups, &groups)
	for _, g := range groups {
		gv := depGroupView{Framework: g.TargetFramework}
		for _, dp := range g.Dependencies {
			gv.Dependencies = append(gv.Dependencies, depView{ID: dp.ID, Range: friendlyRange(dp.Range)})
		}
		d.Groups = append(d.Groups, gv)
	}
	d.Versions = versionRows(vs, counts, cur)
	for _, row := range d.Versions {
		if row.Current {
			d.Current = row
		}
	}
	if d.Extra.Readme {
		d.Readme = s.readme(r, v)
	}
	title := p.ID + " " + v.Version
	s.render(w, r, http.StatusOK, "package", a, &uiPage{Title: title, Data: d})
}

// latestVersion is the index of the version a package page shows by
// default: the newest listed stable version, else the newest listed one,
// else the newest. vs is in version order.
func latestVersion(vs []store.Version) int {
	best := -1
	for i, v := range vs {
		if v.Listed && !v.Prerelease {
			best = i
		}
	}
	if best >= 0 {
		return best
	}
	for i, v := range vs {
		if v.Listed {
			best = i
		}
	}
	if best >= 0 {
		return best
	}
	return len(vs) - 1
}

// versionRows makes the versions table, newest first, flagging versions
// without an author signature that follow a signed one.
func versionRows(vs []store.Version, counts map[string]int64, cur int) []versionLine {
	rows := make([]versionLine, len(vs))
	signed := ""
	for i, v := range vs {
		row := versionLine{Version: v.Version, Published: v.Published, Downloads: counts[v.Version], Listed: v.Listed,
			Current: i == cur, Signature: newSigView(versionSignature(v))}
		if row.Signature.Author != nil {
			signed = v.Version
		} else {
			row.SignedBefore = signed
		}
		rows[len(vs)-1-i] = row
	}
	return rows
}

// friendlyRange writes a version range in words: "[1.0.0, )" is
// "≥ 1.0.0", "[1.0.0, 2.0.0)" is "≥ 1.0.0 and < 2.0.0", "[1.0.0]" is
// "= 1.0.0"; what does not parse is shown as written.
func friendlyRange(r string) string {
	r = strings.TrimSpace(r)
	if r == "" || r == "(, )" {
		return "any version"
	}
	if len(r) < 3 || !strings.ContainsAny(r[:1], "[(") || !strings.ContainsAny(r[len(r)-1:], "])") {
		return r
	}
	lower, upper, ok := strings.Cut(r[1:len(r)-1], ",")
	lower, upper = strings.TrimSpace(lower), strings.TrimSpace(upper)
	if !ok {
		if r[0] == '[' && r[len(r)-1] == ']' && lower != "" {
			return "= " + lower
		}
		return r
	}
	var parts []string
	if lower != "" {
		parts = append(parts, map[byte]string{'[': "≥ ", '(': "> "}[r[0]]+lower)
	}
	if upper != "" {
		parts = append(parts, map[byte]string{']': "≤ ", ')': "< "}[r[len(r)-1]]+upper)
	}
	if len(parts) == 0 {
		return "any version"
	}
	return strings.Join(parts, " and ")
}

// webURL is u when it is an absolute http(s) URL, else "": the page links
// only to web pages.
func webURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// readme renders a version's README, or nothing when it cannot be read.
func (s *Server) readme(r *http.Request, v store.Version) template.HTML {
	obj, err := s.blobs.Open(r.Context(), blobKey(v.PackageID, v.Version, v.SHA512, blobReadme))
	if err != nil {
		s.log.Warn("reading a README", "id", v.PackageID, "version", v.Version, "err", err)
		return ""
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, maxReadmeSize+1))
	if err != nil || len(b) > maxReadmeSize {
		s.log.Warn("reading a README", "id", v.PackageID, "version", v.Version, "err", err, "size", len(b))
		return ""
	}
	return renderMarkdown(string(b))
}
