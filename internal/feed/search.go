package feed

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/store"
)

type searchResponse struct {
	TotalHits int            `json:"totalHits"`
	Data      []searchResult `json:"data"`
	Context   any            `json:"@context"`
}

type searchResult struct {
	ID             string          `json:"@id"`
	Type           string          `json:"@type"`
	Registration   string          `json:"registration"`
	PackageID      string          `json:"id"`
	Version        string          `json:"version"`
	Description    string          `json:"description"`
	Summary        string          `json:"summary"`
	Title          string          `json:"title"`
	IconURL        string          `json:"iconUrl"`
	LicenseURL     string          `json:"licenseUrl"`
	ProjectURL     string          `json:"projectUrl"`
	Tags           []string        `json:"tags"`
	Authors        []string        `json:"authors"`
	Owners         []string        `json:"owners"`
	TotalDownloads int64           `json:"totalDownloads"`
	Verified       bool            `json:"verified"`
	PackageTypes   []packageType   `json:"packageTypes"`
	Versions       []searchVersion `json:"versions"`
}

type searchVersion struct {
	Version   string `json:"version"`
	Downloads int64  `json:"downloads"`
	ID        string `json:"@id"`
}

var searchContext = map[string]string{"@vocab": "http://schema.nuget.org/schema#", "@base": ""}

// searchQuery reads the query parameters that search and autocomplete
// share: q, skip, take, prerelease, semVerLevel and packageType.
func searchQuery(r *http.Request) (store.SearchQuery, string, error) {
	qv := r.URL.Query()
	q := store.SearchQuery{Terms: qv.Get("q"), PackageType: qv.Get("packageType")}
	var err error
	if v := qv.Get("skip"); v != "" {
		if q.Skip, err = strconv.Atoi(v); err != nil || q.Skip < 0 {
			return q, "", errors.New("skip must be a non-negative integer")
		}
	}
	if v := qv.Get("take"); v != "" {
		if q.Take, err = strconv.Atoi(v); err != nil || q.Take < 0 {
			return q, "", errors.New("take must be a non-negative integer")
		}
		if q.Take == 0 {
			q.Take = -1 // asked for nothing
		}
	}
	q.Prerelease, _ = strconv.ParseBool(qv.Get("prerelease"))
	hive := hiveSemVer1
	if v := qv.Get("semVerLevel"); v != "" {
		if sv, err := nuget.ParseVersion(v); err == nil && sv.Major >= 2 {
			q.SemVer2 = true
			hive = hiveSemVer2
		}
	}
	// NuGet's query syntax names fields ("packageid:Foo", "id:foo");
	// the store matches terms in every field, so the field names go.
	var terms []string
	for t := range strings.FieldsSeq(q.Terms) {
		if field, value, ok := strings.Cut(t, ":"); ok && value != "" {
			switch strings.ToLower(field) {
			case "packageid", "id", "title", "description", "tags", "tag", "author", "summary":
				t = value
			}
		}
		terms = append(terms, t)
	}
	q.Terms = strings.Join(terms, " ")
	if len(terms) > store.MaxSearchTerms {
		return q, "", errors.New("too many search terms")
	}
	return q, hive, nil
}

// handleSearch is GET /v3/query.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q, hive, err := searchQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	resp := searchResponse{Data: []searchResult{}, Context: searchContext}
	if q.Take < 0 {
		q.Take = 1 // for the total only
		page, err := s.store.Search(r.Context(), q)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		resp.TotalHits = page.Total
		writeJSON(w, r, http.StatusOK, resp)
		return
	}
	page, err := s.store.Search(r.Context(), q)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	resp.TotalHits = page.Total
	for _, res := range page.Results {
		counts, total, err := s.store.Downloads(r.Context(), res.Package.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
		l := res.Latest
		var ex extra
		jsonUnmarshal(l.Extra, &ex)
		sr := searchResult{
			ID:             s.regIndexURL(hive, res.Package.ID),
			Type:           "Package",
			Registration:   s.regIndexURL(hive, res.Package.ID),
			PackageID:      res.Package.ID,
			Version:        l.Version,
			Description:    l.Description,
			Summary:        ex.Summary,
			Title:          l.Title,
			IconURL:        ex.IconURL,
			LicenseURL:     ex.LicenseURL,
			ProjectURL:     ex.ProjectURL,
			Tags:           append([]string{}, l.Tags...),
			Authors:        splitAuthors(l.Authors),
			Owners:         []string{},
			TotalDownloads: total,
			PackageTypes:   []packageType{},
			Versions:       []searchVersion{},
		}
		for _, o := range res.Package.Owners {
			sr.Owners = append(sr.Owners, o.Name)
		}
		for _, t := range l.PackageTypes {
			sr.PackageTypes = append(sr.PackageTypes, packageType{Name: t})
		}
		if len(sr.PackageTypes) == 0 {
			sr.PackageTypes = append(sr.PackageTypes, packageType{Name: "Dependency"})
		}
		for _, v := range res.Versions {
			sr.Versions = append(sr.Versions, searchVersion{
				Version:   v.Version,
				Downloads: counts[v.Version],
				ID:        s.regLeafURL(hive, v.PackageID, v.Version),
			})
		}
		resp.Data = append(resp.Data, sr)
	}
	writeJSON(w, r, http.StatusOK, resp)
}

// splitAuthors splits a nuspec's comma-separated authors.
func splitAuthors(a string) []string {
	out := []string{}
	for p := range strings.SplitSeq(a, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// handleAutocomplete is GET /v3/autocomplete: package ids matching q, or,
// with id=, the versions of one package.
func (s *Server) handleAutocomplete(w http.ResponseWriter, r *http.Request) {
	q, _, err := searchQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if id := r.URL.Query().Get("id"); id != "" {
		vs, err := s.store.Versions(r.Context(), id)
		out := []string{}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
		for _, v := range vs {
			if v.Listed && (q.Prerelease || !v.Prerelease) && (q.SemVer2 || !v.SemVer2) {
				out = append(out, v.Version)
			}
		}
		writeJSON(w, r, http.StatusOK, map[string]any{"totalHits": len(out), "data": out, "@context": searchContext})
		return
	}
	out := []string{}
	total := 0
	if q.Take >= 0 {
		page, err := s.store.Search(r.Context(), q)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		total = page.Total
		for _, res := range page.Results {
			out = append(out, res.Package.ID)
		}
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"totalHits": total, "data": out, "@context": searchContext})
}
