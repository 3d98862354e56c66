package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/internal/store"
)

// The registration hives: one without SemVer 2.0.0 versions, for old
// clients (RegistrationsBaseUrl up to 3.4.0), and one with them (3.6.0).
const (
	hiveSemVer1 = "registration"
	hiveSemVer2 = "registration-semver2"
)

const (
	// registrationPageSize is how many versions a registration page holds,
	// as on nuget.org.
	registrationPageSize = 64
	// inlineVersions is the most versions whose pages are inlined in the
	// registration index; beyond it the index links to its pages, which
	// clients fetch as they need them.
	inlineVersions = 128
)

// unlistedPublished is the publish time nuget.org shows for unlisted
// versions; older clients read it, newer ones the listed field.
var unlistedPublished = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

type regIndex struct {
	ID              string    `json:"@id"`
	Type            []string  `json:"@type"`
	CommitID        string    `json:"commitId"`
	CommitTimeStamp string    `json:"commitTimeStamp"`
	Count           int       `json:"count"`
	Items           []regPage `json:"items"`
	Context         any       `json:"@context,omitempty"`
}

type regPage struct {
	ID              string    `json:"@id"`
	Type            string    `json:"@type"`
	CommitID        string    `json:"commitId"`
	CommitTimeStamp string    `json:"commitTimeStamp"`
	Count           int       `json:"count"`
	Items           []regItem `json:"items,omitempty"`
	Parent          string    `json:"parent,omitempty"`
	Lower           string    `json:"lower"`
	Upper           string    `json:"upper"`
	Context         any       `json:"@context,omitempty"`
}

type regItem struct {
	ID              string       `json:"@id"`
	Type            string       `json:"@type"`
	CommitID        string       `json:"commitId"`
	CommitTimeStamp string       `json:"commitTimeStamp"`
	CatalogEntry    catalogEntry `json:"catalogEntry"`
	PackageContent  string       `json:"packageContent"`
	Registration    string       `json:"registration"`
}

type catalogEntry struct {
	ID                       string        `json:"@id"`
	Type                     string        `json:"@type"`
	Authors                  string        `json:"authors"`
	DependencyGroups         []regDepGroup `json:"dependencyGroups"`
	Description              string        `json:"description"`
	IconURL                  string        `json:"iconUrl"`
	PackageID                string        `json:"id"`
	Language                 string        `json:"language"`
	LicenseExpression        string        `json:"licenseExpression"`
	LicenseURL               string        `json:"licenseUrl"`
	Listed                   bool          `json:"listed"`
	MinClientVersion         string        `json:"minClientVersion"`
	PackageContent           string        `json:"packageContent"`
	ProjectURL               string        `json:"projectUrl"`
	Published                string        `json:"published"`
	ReadmeURL                string        `json:"readmeUrl,omitempty"`
	RequireLicenseAcceptance bool          `json:"requireLicenseAcceptance"`
	Summary                  string        `json:"summary"`
	Tags                     []string      `json:"tags"`
	Title                    string        `json:"title"`
	Version                  string        `json:"version"`
	PackageTypes             []packageType `json:"packageTypes,omitempty"`
	// Signature is Signet's extension: the version's signature facts,
	// public (author signer, timestamp, repository signature, status).
	Signature *signatureJSON `json:"signature,omitempty"`
}

type regDepGroup struct {
	ID              string   `json:"@id"`
	Type            string   `json:"@type"`
	TargetFramework string   `json:"targetFramework,omitempty"`
	Dependencies    []regDep `json:"dependencies,omitempty"`
}

type regDep struct {
	ID           string `json:"@id"`
	Type         string `json:"@type"`
	PackageID    string `json:"id"`
	Range        string `json:"range"`
	Registration string `json:"registration"`
}

type packageType struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type regLeaf struct {
	ID             string   `json:"@id"`
	Type           []string `json:"@type"`
	CatalogEntry   string   `json:"catalogEntry"`
	Listed         bool     `json:"listed"`
	PackageContent string   `json:"packageContent"`
	Published      string   `json:"published"`
	Registration   string   `json:"registration"`
	// Signature is Signet's extension, as in the catalog entry.
	Signature *signatureJSON `json:"signature,omitempty"`
}

// registrationContext is the JSON-LD context nuget.org's registration
// documents carry; clients ignore it, but tools that read JSON-LD use it.
var registrationContext = map[string]any{
	"@vocab":                  "http://schema.nuget.org/schema#",
	"catalog":                 "http://schema.nuget.org/catalog#",
	"xsd":                     "http://www.w3.org/2001/XMLSchema#",
	"items":                   map[string]string{"@id": "catalog:item", "@container": "@set"},
	"commitTimeStamp":         map[string]string{"@id": "catalog:commitTimeStamp", "@type": "xsd:dateTime"},
	"commitId":                map[string]string{"@id": "catalog:commitId"},
	"count":                   map[string]string{"@id": "catalog:count"},
	"parent":                  map[string]string{"@id": "catalog:parent", "@type": "@id"},
	"tags":                    map[string]string{"@id": "tag", "@container": "@set"},
	"packageTargetFrameworks": map[string]string{"@id": "packageTargetFramework", "@container": "@set"},
	"dependencyGroups":        map[string]string{"@id": "dependencyGroup", "@container": "@set"},
	"dependencies":            map[string]string{"@id": "dependency", "@container": "@set"},
	"packageContent":          map[string]string{"@type": "@id"},
	"published":               map[string]string{"@type": "xsd:dateTime"},
	"registration":            map[string]string{"@type": "@id"},
}

// URLs of the protocol's documents.
func (s *Server) regIndexURL(hive, id string) string {
	return s.URL("/v3/" + hive + "/" + strings.ToLower(id) + "/index.json")
}

func (s *Server) regLeafURL(hive, id, version string) string {
	return s.URL("/v3/" + hive + "/" + strings.ToLower(id) + "/" + strings.ToLower(version) + ".json")
}

func (s *Server) catalogURL(id, version string) string {
	return s.URL("/v3/catalog/" + strings.ToLower(id) + "/" + strings.ToLower(version) + ".json")
}

func (s *Server) contentURL(id, version string) string {
	lid, lv := strings.ToLower(id), strings.ToLower(version)
	return s.URL("/v3-flatcontainer/" + lid + "/" + lv + "/" + lid + "." + lv + ".nupkg")
}

// hiveVersions returns the versions of id that a hive shows, or
// ErrNotFound when it shows none.
func (s *Server) hiveVersions(r *http.Request, hive, id string) ([]store.Version, error) {
	vs, err := s.store.Versions(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if hive == hiveSemVer1 {
		kept := vs[:0]
		for _, v := range vs {
			if !v.SemVer2 {
				kept = append(kept, v)
			}
		}
		vs = kept
	}
	if len(vs) == 0 {
		return nil, store.ErrNotFound
	}
	return vs, nil
}

// commit returns a commit id and time for a set of versions: the feed has
// no catalog, so both are derived from what the documents show.
func commit(vs []store.Version) (string, string) {
	h := sha256.New()
	var latest time.Time
	for _, v := range vs {
		fmt.Fprintf(h, "%s\x00%s\x00%t\x00%s\x00", v.PackageID, v.Version, v.Listed, v.SignatureStatus)
		if v.Published.After(latest) {
			latest = v.Published
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	id := sum[0:8] + "-" + sum[8:12] + "-" + sum[12:16] + "-" + sum[16:20] + "-" + sum[20:32]
	return id, latest.UTC().Format(time.RFC3339Nano)
}

func (s *Server) catalogEntry(hive string, v store.Version) catalogEntry {
	var ex extra
	json.Unmarshal(v.Extra, &ex)
	var groups []depGroup
	json.Unmarshal(v.DependencyGroups, &groups)
	e := catalogEntry{
		ID:                       s.catalogURL(v.PackageID, v.Version),
		Type:                     "PackageDetails",
		Authors:                  v.Authors,
		DependencyGroups:         []regDepGroup{},
		Description:              v.Description,
		IconURL:                  ex.IconURL,
		PackageID:                v.PackageID,
		Language:                 ex.Language,
		LicenseExpression:        ex.LicenseExpression,
		LicenseURL:               ex.LicenseURL,
		Listed:                   v.Listed,
		MinClientVersion:         ex.MinClientVersion,
		PackageContent:           s.contentURL(v.PackageID, v.Version),
		ProjectURL:               ex.ProjectURL,
		Published:                published(v),
		RequireLicenseAcceptance: ex.RequireLicenseAcceptance,
		Summary:                  ex.Summary,
		Tags:                     append([]string{}, v.Tags...),
		Title:                    v.Title,
		Version:                  v.Version,
		Signature:                versionSignature(v),
	}
	if ex.Readme {
		e.ReadmeURL = s.URL("/v3-flatcontainer/" + strings.ToLower(v.PackageID) + "/" + strings.ToLower(v.Version) + "/readme")
	}
	for i, t := range v.PackageTypes {
		pt := packageType{Name: t}
		if i < len(ex.PackageTypeVersions) {
			pt.Version = ex.PackageTypeVersions[i]
		}
		e.PackageTypes = append(e.PackageTypes, pt)
	}
	for gi, g := range groups {
		gid := fmt.Sprintf("%s#dependencygroup/%d", e.ID, gi)
		if g.TargetFramework != "" {
			gid = e.ID + "#dependencygroup/" + strings.ToLower(g.TargetFramework)
		}
		rg := regDepGroup{ID: gid, Type: "PackageDependencyGroup", TargetFramework: g.TargetFramework}
		for _, d := range g.Dependencies {
			rg.Dependencies = append(rg.Dependencies, regDep{
				ID:           gid + "/" + strings.ToLower(d.ID),
				Type:         "PackageDependency",
				PackageID:    d.ID,
				Range:        d.Range,
				Registration: s.regIndexURL(hive, d.ID),
			})
		}
		e.DependencyGroups = append(e.DependencyGroups, rg)
	}
	return e
}

func published(v store.Version) string {
	if !v.Listed {
		return unlistedPublished.Format(time.RFC3339)
	}
	return v.Published.UTC().Format(time.RFC3339Nano)
}

func (s *Server) regItem(hive string, v store.Version) regItem {
	cid, cts := commit([]store.Version{v})
	return regItem{
		ID:              s.regLeafURL(hive, v.PackageID, v.Version),
		Type:            "Package",
		CommitID:        cid,
		CommitTimeStamp: cts,
		CatalogEntry:    s.catalogEntry(hive, v),
		PackageContent:  s.contentURL(v.PackageID, v.Version),
		Registration:    s.regIndexURL(hive, v.PackageID),
	}
}

// pages splits versions (in order) into registration pages.
func pages(vs []store.Version) [][]store.Version {
	var out [][]store.Version
	for len(vs) > 0 {
		n := min(len(vs), registrationPageSize)
		out = append(out, vs[:n])
		vs = vs[n:]
	}
	return out
}

func (s *Server) regPage(hive, id string, vs []store.Version, inline bool) regPage {
	cid, cts := commit(vs)
	lower, upper := strings.ToLower(vs[0].Version), strings.ToLower(vs[len(vs)-1].Version)
	p := regPage{
		Type:            "catalog:CatalogPage",
		CommitID:        cid,
		CommitTimeStamp: cts,
		Count:           len(vs),
		Lower:           lower,
		Upper:           upper,
	}
	if inline {
		p.ID = s.regIndexURL(hive, id) + "#page/" + lower + "/" + upper
		p.Parent = s.regIndexURL(hive, id)
		for _, v := range vs {
			p.Items = append(p.Items, s.regItem(hive, v))
		}
	} else {
		p.ID = s.URL("/v3/" + hive + "/" + strings.ToLower(id) + "/page/" + lower + "/" + upper + ".json")
	}
	return p
}

// handleRegistrationIndex is GET /v3/{hive}/{id}/index.json.
func (s *Server) handleRegistrationIndex(hive string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		vs, err := s.hiveVersions(r, hive, id)
		if errors.Is(err, store.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		cid, cts := commit(vs)
		idx := regIndex{
			ID:              s.regIndexURL(hive, id),
			Type:            []string{"catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"},
			CommitID:        cid,
			CommitTimeStamp: cts,
			Context:         registrationContext,
		}
		inline := len(vs) <= inlineVersions
		for _, pv := range pages(vs) {
			idx.Items = append(idx.Items, s.regPage(hive, id, pv, inline))
		}
		idx.Count = len(idx.Items)
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, r, http.StatusOK, idx)
	}
}

// handleRegistrationPage is GET /v3/{hive}/{id}/page/{lower}/{upper}.json,
// a page that the index links to instead of inlining.
func (s *Server) handleRegistrationPage(hive string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		lower := r.PathValue("lower")
		upper, ok := strings.CutSuffix(r.PathValue("upper"), ".json")
		if !ok {
			http.NotFound(w, r)
			return
		}
		vs, err := s.hiveVersions(r, hive, id)
		if errors.Is(err, store.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, pv := range pages(vs) {
			if strings.EqualFold(pv[0].Version, lower) && strings.EqualFold(pv[len(pv)-1].Version, upper) {
				p := s.regPage(hive, id, pv, true)
				p.ID = s.URL(r.URL.Path[len(s.prefix):])
				p.Context = registrationContext
				w.Header().Set("Cache-Control", "no-cache")
				writeJSON(w, r, http.StatusOK, p)
				return
			}
		}
		http.NotFound(w, r)
	}
}

// handleRegistrationLeaf is GET /v3/{hive}/{id}/{version}.json.
func (s *Server) handleRegistrationLeaf(hive string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.leafVersion(w, r)
		if !ok {
			return
		}
		if hive == hiveSemVer1 && v.SemVer2 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, r, http.StatusOK, regLeaf{
			ID:             s.regLeafURL(hive, v.PackageID, v.Version),
			Type:           []string{"Package", "http://schema.nuget.org/catalog#Permalink"},
			CatalogEntry:   s.catalogURL(v.PackageID, v.Version),
			Listed:         v.Listed,
			PackageContent: s.contentURL(v.PackageID, v.Version),
			Published:      published(v),
			Registration:   s.regIndexURL(hive, v.PackageID),
			Signature:      versionSignature(v),
		})
	}
}

// handleCatalogEntry is GET /v3/catalog/{id}/{version}.json: the catalog
// entry that registration documents point to.
func (s *Server) handleCatalogEntry(w http.ResponseWriter, r *http.Request) {
	v, ok := s.leafVersion(w, r)
	if !ok {
		return
	}
	hive := hiveSemVer1
	if v.SemVer2 {
		hive = hiveSemVer2
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, r, http.StatusOK, s.catalogEntry(hive, v))
}

// leafVersion finds the version a {id}/{leaf} URL names, answering 404 or
// 500 itself when it cannot.
func (s *Server) leafVersion(w http.ResponseWriter, r *http.Request) (store.Version, bool) {
	raw, ok := strings.CutSuffix(r.PathValue("leaf"), ".json")
	if !ok {
		http.NotFound(w, r)
		return store.Version{}, false
	}
	nv, err := nuget.ParseVersion(raw)
	if err != nil {
		http.NotFound(w, r)
		return store.Version{}, false
	}
	v, err := s.store.Version(r.Context(), r.PathValue("id"), nv.String())
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return store.Version{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return store.Version{}, false
	}
	return v, true
}
