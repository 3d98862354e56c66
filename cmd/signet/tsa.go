package main

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/signer/pkcs11"
	"github.com/signet-nuget/signet/internal/tsa"
)

func init() {
	register(&command{name: "tsa", summary: "run an RFC 3161 timestamp authority", run: runTSA})
}

func runTSA(ctx context.Context, e *env, args []string) int {
	var listen, certPath, keyPath, password, policy, serialFile string
	var accuracy, keyTimeout time.Duration
	var key string
	f := newFlagSet("tsa", "signet tsa --listen 127.0.0.1:<port> --certificate-path <pem|pfx> [--key-path <pem>] [--policy <oid>] [--serial-file <path>]", e.stderr)
	f.StringVar(&listen, "listen", "127.0.0.1:8318", "address to listen on")
	f.StringVar(&certPath, "certificate-path", "", "timestamping certificate (PEM chain or PKCS#12); EKU timeStamping, critical")
	f.StringVar(&keyPath, "key-path", "", "PEM private key for a PEM certificate")
	f.StringVar(&password, "certificate-password", "", "password of a PKCS#12 file (or SIGNET_CERTIFICATE_PASSWORD)")
	f.StringVar(&policy, "policy", "", "TSA policy OID written into every token (default: Signet's policy OID)")
	f.StringVar(&serialFile, "serial-file", "signet-tsa.serial", "file that keeps serial numbers unique across restarts")
	f.DurationVar(&accuracy, "accuracy", time.Second, "accuracy stated in every token")
	f.StringVar(&key, "key", "", "key held elsewhere: \"exec:<program> [args]\" or \"pkcs11:<URI>\" (see signet sign)")
	f.DurationVar(&keyTimeout, "key-timeout", signer.DefaultExecTimeout, "time allowed for one run of an external signer")
	if _, code := f.parse(args); code != nil {
		return *code
	}
	if certPath == "" && !strings.HasPrefix(key, pkcs11.Prefix) {
		printError(e.stderr, errors.New("--certificate-path is required"))
		return 2
	}
	if password == "" {
		password = e.getenv("SIGNET_CERTIFICATE_PASSWORD")
	}
	id, token, err := loadKeyIdentity(e, key, certPath, keyPath, password, keyTimeout)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer token.Close()
	srv := &tsa.Server{Certificate: id.Certificate, Chain: id.Chain, Signer: id.Signer, Accuracy: accuracy}
	if policy != "" {
		oid, err := parseOID(policy)
		if err != nil {
			printError(e.stderr, err)
			return 2
		}
		srv.Policy = oid
	}
	serials, err := tsa.NewFileSerials(serialFile)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	defer serials.Close()
	srv.Serials = serials
	if err := srv.Validate(); err != nil {
		printError(e.stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		printError(e.stderr, err)
		return 1
	}
	fmt.Fprintf(e.stdout, "Timestamp authority listening on http://%s/ (certificate %q)\n", ln.Addr(), id.Certificate.Subject.String())
	if err := tsa.Serve(ctx, ln, srv); err != nil {
		printError(e.stderr, err)
		return 1
	}
	return 0
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid OID %q", s)
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("invalid OID %q", s)
	}
	return oid, nil
}
