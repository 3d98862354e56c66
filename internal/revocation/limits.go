package revocation

import "time"

// Time limits. The defaults are what a Checker uses when its field is zero.
const (
	// DefaultResponderTimeout bounds one exchange with one responder or
	// distribution point (OCSP POST and its GET fallback share it): healthy
	// OCSP responders answer in well under a second from CDNs, so 3 s means
	// the server is down or unreachable, and a restore that checks hundreds
	// of certificates must not wait longer on it.
	DefaultResponderTimeout = 3 * time.Second
	// DefaultTimeout bounds one whole Check: an OCSP responder and a CRL
	// distribution point that both hit DefaultResponderTimeout, plus the
	// time to download and verify a large CRL.
	DefaultTimeout = 10 * time.Second
	// maxClockSkew is how far thisUpdate may be in the future and nextUpdate
	// in the past: clocks of responders and verifiers drift by seconds to
	// minutes; five minutes is the tolerance Kerberos and Windows use.
	maxClockSkew = 5 * time.Minute
	// maxAgeWithoutNextUpdate bounds the age of an OCSP response that has no
	// nextUpdate (RFC 6960 4.2.2.1: "newer information is always
	// available"): without it an attacker could replay such a response
	// forever. A day is the longest real responders take to re-sign.
	maxAgeWithoutNextUpdate = 24 * time.Hour
	// downBackoff is how long a responder or distribution point that failed
	// (network error, timeout, HTTP error) is skipped, so that checking the
	// many certificates of a restore pays its timeout once, not once each.
	downBackoff = 30 * time.Second
)

// Size limits on what is read from the network, the cache and bundles.
const (
	// maxOCSPResponseSize bounds an OCSP response: real ones are 1.5–4 KiB
	// (a signature and perhaps a delegated responder certificate); 64 KiB
	// leaves room for a few certificates and many single responses.
	maxOCSPResponseSize = 64 << 10
	// maxCRLSize bounds a CRL. Code-signing CAs publish CRLs from a few KiB
	// to a few MiB (entries are ~40 bytes, so 1 MiB is ~25,000 revoked
	// certificates); the largest public CRLs reach tens of MiB. 32 MiB takes
	// every CRL a code-signing or timestamping chain points at while
	// capping what one download can make us hold (the parsed list costs a
	// few times the DER).
	maxCRLSize = 32 << 20
	// maxBundleSize bounds a revocation bundle file: the CRLs of a few CAs
	// plus thousands of OCSP responses, base64-encoded (4/3 of the DER).
	maxBundleSize = 128 << 20
	// maxBundleBlocks bounds the PEM blocks of a bundle, so that a file of
	// tiny blocks cannot make us parse millions of them.
	maxBundleBlocks = 100_000
)

// Count limits on what a certificate or a response may make us do.
const (
	// maxURLsPerKind bounds the OCSP URLs and the CRL distribution points
	// tried for one certificate: real certificates name one or two; an
	// attacker's certificate could name hundreds to make us scan a network.
	maxURLsPerKind = 4
	// maxRedirects bounds the HTTP redirects followed: CDNs in front of CRL
	// and OCSP servers redirect once or twice.
	maxRedirects = 3
	// maxOCSPCerts bounds the certificates of an OCSP response that are
	// considered as the delegated responder: responders send one; a few
	// send their chain.
	maxOCSPCerts = 8
	// maxOCSPSingleResponses bounds the SingleResponses of an OCSP response:
	// we ask about one certificate; some responders answer a few more.
	maxOCSPSingleResponses = 256
	// maxExtensions bounds the extensions of a response or CRL element:
	// real ones carry at most a handful.
	maxExtensions = 32
	// maxMemoryEntries bounds the in-memory result and CRL caches of a
	// Checker; past it expired entries are dropped, then arbitrary ones.
	maxMemoryEntries = 4096
)
