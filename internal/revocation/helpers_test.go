package revocation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/der"
	"github.com/signet-nuget/signet/internal/devpki"
)

// Test keys. The intermediate, which signs most OCSP responses and CRLs,
// has an RSA key (devpki.TestKey, generated once per process); the other
// keys are ECDSA P-256, which costs nothing to generate, so that the tests
// stay fast on a busy machine and cover both kinds of signature.
const (
	keyRoot = iota
	keyLeaf
	keyRogue
	keyImpostorCA
	keyIntermediate = 600 // devpki.TestKey number
)

var (
	ecKeysMu sync.Mutex
	ecKeys   = map[int]*ecdsa.PrivateKey{}
)

// ecKey returns ECDSA key number n, made on first use.
func ecKey(t testing.TB, n int) *ecdsa.PrivateKey {
	t.Helper()
	ecKeysMu.Lock()
	defer ecKeysMu.Unlock()
	if k, ok := ecKeys[n]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKeys[n] = k
	return k
}

// env is a test PKI whose intermediate is served by a devpki responder, and
// a leaf that points at it.
type env struct {
	root, inter *devpki.CA
	responder   *devpki.Responder
	leaf        *x509.Certificate
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := newCAs(t)
	r := devpki.NewResponder()
	t.Cleanup(r.Close)
	r.Register(e.inter)
	e.responder = r
	e.leaf = e.issue(t, devpki.LeafOptions{})
	return e
}

// newCAs returns an env without responder or leaf.
func newCAs(t testing.TB) *env {
	t.Helper()
	root, err := devpki.NewRoot("Revocation Test Root", devpki.CAOptions{Key: ecKey(t, keyRoot)})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Revocation Test Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, keyIntermediate)})
	if err != nil {
		t.Fatal(err)
	}
	return &env{root: root, inter: inter}
}

// issue makes a leaf of the intermediate; o's URLs default to the
// responder's.
func (e *env) issue(t testing.TB, o devpki.LeafOptions) *x509.Certificate {
	t.Helper()
	if o.Key == nil {
		o.Key = ecKey(t, keyLeaf)
	}
	id, err := e.inter.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return id.Certificate
}

// revoke revokes c at the responder and returns the revocation time.
func (e *env) revoke(t testing.TB, c *x509.Certificate, reason int) time.Time {
	t.Helper()
	at := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	if err := e.responder.Revoke(c, at, reason); err != nil {
		t.Fatal(err)
	}
	return at
}

// requests returns the responder's OCSP and CRL request counts.
func (e *env) requests() (int, int) { return e.responder.Requests() }

// checker returns a Checker for tests, with o applied. Its timeouts are
// shorter than the defaults but generous for a loaded machine: tests that
// measure timeouts set their own.
func checker(o ...func(*Checker)) *Checker {
	c := &Checker{ResponderTimeout: 2 * time.Second, Timeout: 5 * time.Second}
	for _, f := range o {
		f(c)
	}
	return c
}

// deadURL is an http URL on which nothing listens.
func deadURL(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL
	s.Close()
	return u + "/dead"
}

// server serves h on 127.0.0.1 and counts requests.
type server struct {
	*httptest.Server
	n atomic.Int64
}

func newServer(t testing.TB, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serveBytes is a handler that answers b to everything.
func serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.Write(b) }
}

// proxy is a handler that passes requests on to base (same method, path
// and body) and copies the answer back.
func proxy(base string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
}

// respSpec describes an OCSP response for buildResponse; the zero values of
// its fields give a good, current response about leaf signed by issuer.
type respSpec struct {
	status       int // responseStatus
	hash         crypto.Hash
	hashOID      asn1.ObjectIdentifier // overrides hash
	idIssuer     *x509.Certificate     // CertID's issuer when not the signer's issuer
	serial       *big.Int              // CertID's serial when not the leaf's
	certStatus   certStatus
	revokedAt    time.Time
	reason       int // -1: absent
	thisUpdate   time.Time
	nextUpdate   time.Time
	noNextUpdate bool
	singleExts   []extension
	responseExts []extension
	responder    *x509.Certificate // named by responderID; the issuer when nil
	byKey        bool
	certs        []*x509.Certificate
	key          crypto.Signer // signing key; the issuer's when nil
	sigAlg       asn1.ObjectIdentifier
	corruptSig   bool
}

// buildResponse builds a DER OCSPResponse as spec says, about leaf issued by
// issuer whose key is issuerKey.
func buildResponse(t testing.TB, leaf, issuer *x509.Certificate, issuerKey crypto.Signer, spec respSpec) []byte {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	if spec.status != 0 {
		return []byte{0x30, 0x03, 0x0a, 0x01, byte(spec.status)}
	}
	if spec.hash == 0 {
		spec.hash = crypto.SHA1
	}
	hashOID := spec.hashOID
	if hashOID == nil {
		hashOID, _ = cms.OIDFromHash(spec.hash)
	}
	idIssuer := issuer
	if spec.idIssuer != nil {
		idIssuer = spec.idIssuer
	}
	nameHash, keyHash, err := issuerHashes(idIssuer, spec.hash)
	if err != nil {
		t.Fatal(err)
	}
	serial := leaf.SerialNumber
	if spec.serial != nil {
		serial = spec.serial
	}
	if spec.thisUpdate.IsZero() {
		spec.thisUpdate = now.Add(-time.Minute)
	}
	if spec.nextUpdate.IsZero() && !spec.noNextUpdate {
		spec.nextUpdate = now.Add(time.Hour)
	}
	responder := issuer
	if spec.responder != nil {
		responder = spec.responder
	}
	key := issuerKey
	if spec.key != nil {
		key = spec.key
	}
	sigAlg, params := spec.sigAlg, asn1.NullRawValue
	if _, ok := key.Public().(*ecdsa.PublicKey); ok {
		params = asn1.RawValue{} // absent (RFC 5758 3.2)
		if sigAlg == nil {
			sigAlg = cms.OIDECDSAWithSHA256
		}
	}
	if sigAlg == nil {
		sigAlg = cms.OIDSHA256WithRSA
	}
	gt := func(b *cryptobyte.Builder, tm time.Time) {
		s, err := der.FormatGeneralizedTime(tm)
		if err != nil {
			b.SetError(err)
			return
		}
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
	}
	exts := func(b *cryptobyte.Builder, tag uint8, es []extension) {
		if len(es) == 0 {
			return
		}
		b.AddASN1(cbasn1.Tag(tag).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range es {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(e.id)
						if e.critical {
							b.AddASN1Boolean(true)
						}
						b.AddASN1OctetString(e.value)
					})
				}
			})
		})
	}
	tbs, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if spec.byKey {
				bits, err := subjectPublicKeyBits(responder)
				if err != nil {
					b.SetError(err)
					return
				}
				sum := sha1.Sum(bits)
				b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(sum[:]) })
			} else {
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(responder.RawSubject) })
			}
			gt(b, now)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						der.AddAlgorithmIdentifier(b, pkix.AlgorithmIdentifier{Algorithm: hashOID, Parameters: asn1.NullRawValue})
						b.AddASN1OctetString(nameHash)
						b.AddASN1OctetString(keyHash)
						b.AddASN1BigInt(serial)
					})
					switch spec.certStatus {
					case statusGood:
						b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
					case statusUnknown:
						b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
					case statusRevoked:
						b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							gt(b, spec.revokedAt)
							if spec.reason >= 0 {
								b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddASN1Enum(int64(spec.reason))
								})
							}
						})
					}
					gt(b, spec.thisUpdate)
					if !spec.nextUpdate.IsZero() {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { gt(b, spec.nextUpdate) })
					}
					exts(b, 1, spec.singleExts)
				})
			})
			exts(b, 1, spec.responseExts)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if spec.corruptSig {
		sig[len(sig)/2] ^= 1
	}
	basic, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(tbs)
			der.AddAlgorithmIdentifier(b, pkix.AlgorithmIdentifier{Algorithm: sigAlg, Parameters: params})
			b.AddASN1BitString(sig)
			if len(spec.certs) > 0 {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						for _, c := range spec.certs {
							b.AddBytes(c.Raw)
						}
					})
				})
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Enum(0)
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidOCSPBasic)
					b.AddASN1OctetString(basic)
				})
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nonceExtension is the response extension echoing nonce (RFC 8954).
func nonceExtension(t testing.TB, nonce []byte) extension {
	t.Helper()
	v, err := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
	if err != nil {
		t.Fatal(err)
	}
	return extension{id: oidOCSPNonce, value: v}
}
