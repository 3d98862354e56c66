package main

import "github.com/signet-nuget/signet/internal/pki"

// loadRoots returns the trusted code-signing and timestamping roots: the
// platform defaults (spec 5.5), the user's roots directory
// (pki.UserRootsDir), then each --trust-bundle file for both purposes. The
// warning says when the defaults fell back to the TLS bundle and nothing
// else was added.
func loadRoots(bundles []string) (codeSigning, timestamping *pki.Bundle, warning string, err error) {
	codeSigning, timestamping, warning = pki.DefaultRoots()
	n := len(codeSigning.Sources)
	if d := pki.UserRootsDir(); d != "" {
		if err := codeSigning.AddDir(d); err != nil {
			return nil, nil, "", err
		}
		timestamping.AddDir(d)
	}
	for _, b := range bundles {
		if err := codeSigning.AddFile(b); err != nil {
			return nil, nil, "", err
		}
		timestamping.AddFile(b)
	}
	if len(codeSigning.Sources) > n {
		warning = ""
	}
	return codeSigning, timestamping, warning, nil
}
