package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
)

// ExecPrefix introduces an external signer in a key reference:
// "exec:<program> [args...]". The program is run directly (no shell); its
// arguments are split on white space.
const ExecPrefix = "exec:"

// DefaultExecTimeout bounds one run of an external signer: cloud key
// services answer in well under a second, but a hardware token asking for a
// touch can take a while.
const DefaultExecTimeout = 60 * time.Second

// maxExecOutput bounds what an external signer may print: an RSA-16384
// signature is 2 KiB; anything far larger is not a signature.
const maxExecOutput = 64 << 10

// ExecSigner is a crypto.Signer whose private key lives elsewhere (a cloud
// key service, an HSM's own tool) and is used through a program:
//
//   - the program receives, on standard input, the DER DigestInfo to sign
//     (RFC 8017 9.2: the digest algorithm and the digest), and in the
//     environment SIGNET_DIGEST_ALGORITHM (SHA256, SHA384 or SHA512) and
//     SIGNET_DIGEST (the digest in lower-case hex), for tools that take
//     those instead;
//   - it prints the raw RSA PKCS#1 v1.5 signature (binary) on standard
//     output and exits with 0.
//
// The signature is verified with the certificate's public key before it is
// returned, so a wrong key, a garbled answer or a program that lies can
// never produce an embedded signature that does not verify.
type ExecSigner struct {
	Program string
	Args    []string
	// PublicKey is the signing certificate's key (RSA).
	PublicKey *rsa.PublicKey
	// Timeout bounds each run; DefaultExecTimeout when zero.
	Timeout time.Duration
}

// Public returns the certificate's public key.
func (e *ExecSigner) Public() crypto.PublicKey { return e.PublicKey }

// Sign runs the program over the DigestInfo of digest.
func (e *ExecSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("signer: external signers make RSA PKCS#1 v1.5 signatures only")
	}
	h := opts.HashFunc()
	name, oid, ok := digestAlgorithm(h)
	if !ok || len(digest) != h.Size() {
		return nil, fmt.Errorf("signer: external signer: unsupported digest %v", h)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(digest)
	})
	digestInfo := b.BytesOrPanic()

	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Program, e.Args...)
	cmd.Stdin = bytes.NewReader(digestInfo)
	cmd.Env = append(cmd.Environ(), "SIGNET_DIGEST_ALGORITHM="+name, fmt.Sprintf("SIGNET_DIGEST=%x", digest))
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxExecOutput, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("signer: external signer %q did not answer within %v", e.Program, timeout)
	case err != nil:
		msg := strings.TrimSpace(firstLine(stderr.String()))
		if msg != "" {
			return nil, fmt.Errorf("signer: external signer %q failed: %v: %s", e.Program, err, msg)
		}
		return nil, fmt.Errorf("signer: external signer %q failed: %v", e.Program, err)
	case stdout.over:
		return nil, fmt.Errorf("signer: external signer %q printed more than %d bytes: not a signature", e.Program, maxExecOutput)
	}
	sig := stdout.Bytes()
	if err := rsa.VerifyPKCS1v15(e.PublicKey, h, digest, sig); err != nil {
		return nil, fmt.Errorf("signer: external signer %q returned %d bytes that are not a valid signature with the certificate's key", e.Program, len(sig))
	}
	return sig, nil
}

// digestAlgorithm names the digests an external signer is given: the
// SHA-2 family NuGet allows, with the OIDs cms writes.
func digestAlgorithm(h crypto.Hash) (string, asn1.ObjectIdentifier, bool) {
	names := map[crypto.Hash]string{crypto.SHA256: "SHA256", crypto.SHA384: "SHA384", crypto.SHA512: "SHA512"}
	oid, ok := cms.OIDFromHash(h)
	if names[h] == "" || !ok {
		return "", nil, false
	}
	return names[h], oid, true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// limitedBuffer keeps at most max bytes and notes whether more came.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); len(p) > room {
		l.over = true
		if room > 0 {
			l.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return l.Buffer.Write(p)
}

// LoadExec returns an identity whose key is used through an external
// signer (ref is "exec:<program> [args...]") and whose certificates come
// from certPath: a PEM chain (leaf first) or one DER certificate. The
// signer is tried once before returning (CheckKeyMatchesCertificate), so a
// wrong key or a broken program is found before any package is touched.
func LoadExec(ref, certPath string, timeout time.Duration) (*Identity, error) {
	fields := strings.Fields(strings.TrimPrefix(ref, ExecPrefix))
	if !strings.HasPrefix(ref, ExecPrefix) || len(fields) == 0 {
		return nil, &Error{Code: CodeInvalidInput, Msg: fmt.Sprintf("key reference %q is not %q followed by a program", ref, ExecPrefix)}
	}
	data, err := readFile(certPath)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	if isPEM(data) {
		if certs, _, err = readPEM(data, false); err != nil {
			return nil, inFile(err, certPath)
		}
	} else if c, err := x509.ParseCertificate(data); err == nil {
		certs = []*x509.Certificate{c}
	}
	if len(certs) == 0 {
		return nil, &Error{Code: CodeInvalidInput, File: certPath, Msg: "no certificate found", Err: ErrNoCertificate}
	}
	pub, ok := certs[0].PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, &Error{Code: CodeInvalidInput, File: certPath, Msg: "external signers need an RSA certificate", Err: ErrUnsupportedKey}
	}
	s := &ExecSigner{Program: fields[0], Args: fields[1:], PublicKey: pub, Timeout: timeout}
	if err := CheckKeyMatchesCertificate(s, certs[0]); err != nil {
		return nil, err
	}
	return &Identity{Signer: s, Certificate: certs[0], Chain: orderChain(certs[0], certs)}, nil
}
