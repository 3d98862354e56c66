package main

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signet-nuget/signet/nusig"
)

// verbosity follows dotnet's levels; Signet distinguishes quiet, normal and
// detailed, and maps the others onto them.
type verbosity int

const (
	quiet verbosity = iota
	normal
	detailed
)

func parseVerbosity(s string) (verbosity, error) {
	switch strings.ToLower(s) {
	case "q", "quiet", "m", "minimal":
		return quiet, nil
	case "", "n", "normal":
		return normal, nil
	case "d", "detailed", "diag", "diagnostic":
		return detailed, nil
	}
	return normal, fmt.Errorf("unknown verbosity %q (quiet, minimal, normal, detailed, diagnostic)", s)
}

// printError prints err as the CLI's one-line error, with hints.
func printError(w io.Writer, err error, hints ...string) {
	fmt.Fprintf(w, "signet: error: %s\n", oneLine(err.Error()))
	for _, h := range hints {
		fmt.Fprintf(w, "signet: hint: %s\n", h)
	}
}

func printWarning(w io.Writer, msg string) {
	fmt.Fprintf(w, "signet: warning: %s\n", oneLine(msg))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// codeOf returns the NuGet code an error carries, if any.
func codeOf(err error) nusig.Code {
	var e *nusig.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// printCertificate prints a certificate block as dotnet nuget does.
func printCertificate(w io.Writer, indent string, c *x509.Certificate) {
	printCertificateV(w, indent, c, normal)
}

// printCertificateV prints a certificate block at verbosity v: subject,
// SHA-256 fingerprint and validity always; SHA-1 and issuer from normal on.
func printCertificateV(w io.Writer, indent string, c *x509.Certificate, v verbosity) {
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	fmt.Fprintf(w, "%sSubject Name: %s\n", indent, c.Subject)
	if v >= normal {
		fmt.Fprintf(w, "%sSHA1 hash: %X\n", indent, s1[:])
	}
	fmt.Fprintf(w, "%sSHA256 hash: %X\n", indent, s256[:])
	if v >= normal {
		fmt.Fprintf(w, "%sIssued by: %s\n", indent, c.Issuer)
	}
	fmt.Fprintf(w, "%sValid from: %s to %s\n", indent, c.NotBefore.Local().Format(time.DateTime), c.NotAfter.Local().Format(time.DateTime))
}

// printChain prints the chain above the leaf, each level indented further,
// as dotnet does at detailed verbosity.
func printChain(w io.Writer, chain []*x509.Certificate) {
	for i, c := range chain {
		if i == 0 {
			continue
		}
		printCertificateV(w, strings.Repeat(" ", 2+6*i), c, detailed)
		fmt.Fprintln(w)
	}
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	}
	return h.String()
}
