// Package revocation answers whether a certificate has been revoked, from
// OCSP responses (RFC 6960) and CRLs (RFC 5280), for the verification engine
// in nusig (Checker implements nusig.RevocationChecker).
//
// A Checker looks in this order, and stops at the first source that gives a
// verified, current answer: its in-memory results, the offline revocation
// bundles it was given (bundle.go), the on-disk cache (CacheDir), and then,
// in Online mode only, the OCSP responders named by the certificate's
// authority information access extension (POST, falling back to GET) and the
// HTTP CRL distribution points. When nothing answers the status is Unknown,
// with an *UnknownError listing what every source said.
//
// # Threat model
//
// Everything a Checker reads is untrusted: HTTP answers come over plain HTTP
// from URLs the certificate names, and bundle and cache files may have been
// tampered with. An answer counts only after it has been verified against
// the issuer given to Check, every time it is used from disk or a bundle:
//
//   - an OCSP response must be signed by the issuer or by a delegated
//     responder certificate that the issuer issued with the id-kp-OCSPSigning
//     extended key usage (RFC 6960 4.2.2.2), its responder ID must name that
//     signer, its CertID must name exactly this certificate and issuer, its
//     thisUpdate must not be in the future and its nextUpdate not in the past
//     (with maxClockSkew of tolerance), its nonce must echo ours when we sent
//     one, and it must carry no critical extension we do not understand;
//   - a CRL must be issued and signed by the issuer (RFC 5280 6.3.3), be
//     current, be complete (not a delta CRL, not indirect, not limited to
//     some reasons) and, if it names its distribution point, cover this
//     certificate's.
//
// A network attacker can therefore withhold answers (the status becomes
// Unknown, never Good) or replay an old answer until its nextUpdate; nothing
// more. Unknown is not Good: the caller decides what Unknown means (NuGet
// spec 5.3 step 6, 5.5).
//
// Every network exchange has a per-responder time limit (ResponderTimeout)
// and every check an overall one (Timeout); bodies are read up to limits
// named in limits.go. A responder that failed is not asked again for
// downBackoff, so a restore of many packages does not pay its timeout once
// per certificate. Concurrent checks of the same certificate share one
// lookup, and concurrent fetches of the same CRL one download.
//
// Not covered: the revocation status of a delegated OCSP responder's own
// certificate is not checked (RFC 6960 4.2.2.2.1 lets CAs exempt it with
// id-pkix-ocsp-nocheck, and checking it would recurse); a CA that drops
// expired certificates from its CRL or answers "good" for them is believed.
package revocation
