package feed

import "net/http"

// A resource of the service index.
type resource struct {
	ID      string `json:"@id"`
	Type    string `json:"@type"`
	Comment string `json:"comment,omitempty"`
}

type serviceIndex struct {
	Version   string            `json:"version"`
	Resources []resource        `json:"resources"`
	Context   map[string]string `json:"@context"`
}

// handleIndex is GET /v3/index.json: the resources NuGet clients discover.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	var rs []resource
	add := func(path, comment string, types ...string) {
		for _, t := range types {
			rs = append(rs, resource{ID: s.URL(path), Type: t, Comment: comment})
		}
	}
	add("/api/v2/package", "Push, unlist and relist packages.", "PackagePublish/2.0.0")
	add("/v3-flatcontainer/", "Package versions, .nupkg and .nuspec files (flat container).", "PackageBaseAddress/3.0.0")
	add("/v3/"+hiveSemVer1+"/", "Package metadata, without SemVer 2.0.0 versions.",
		"RegistrationsBaseUrl", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.4.0")
	add("/v3/"+hiveSemVer2+"/", "Package metadata, with SemVer 2.0.0 versions.", "RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/Versioned")
	add("/v3/query", "Search packages.", "SearchQueryService", "SearchQueryService/3.0.0-beta", "SearchQueryService/3.0.0-rc", "SearchQueryService/3.5.0")
	add("/v3/autocomplete", "Autocomplete package ids and versions.",
		"SearchAutocompleteService", "SearchAutocompleteService/3.0.0-beta", "SearchAutocompleteService/3.0.0-rc", "SearchAutocompleteService/3.5.0")
	add("/packages/{id}/{version}", "The web page of a package version.", "PackageDetailsUriTemplate/5.1.0")
	add("/v3-flatcontainer/{lower_id}/{lower_version}/readme", "The readme of a package version.", "ReadmeUriTemplate/6.13.0")
	if s.cfg.Signing != nil {
		add("/v3/repository-signatures/index.json", "The certificates the feed signs packages with.",
			"RepositorySignatures/4.7.0", "RepositorySignatures/4.9.0", "RepositorySignatures/5.0.0")
	}
	writeJSON(w, r, http.StatusOK, serviceIndex{
		Version:   "3.0.0",
		Resources: rs,
		Context: map[string]string{
			"@vocab":  "http://schema.nuget.org/services#",
			"comment": "http://www.w3.org/2000/01/rdf-schema#comment",
		},
	})
}
