package main

import (
	"context"
	"fmt"

	"github.com/signet-nuget/signet/internal/devpki"
)

func init() {
	register(&command{name: "dev-certs", summary: "write a development PKI: root CA, code-signing, timestamping and repository certificates", run: runDevCerts})
}

func runDevCerts(ctx context.Context, e *env, args []string) int {
	f := newFlagSet("dev-certs", "signet dev-certs <dir>", e.stderr)
	dirs, code := f.parse(args)
	if code != nil {
		return *code
	}
	if len(dirs) != 1 {
		printError(e.stderr, fmt.Errorf("want one directory"), "usage: signet dev-certs <dir>")
		return 2
	}
	d, err := devpki.WriteDevCerts(dirs[0])
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	fmt.Fprint(e.stdout, d.Usage())
	return 0
}
