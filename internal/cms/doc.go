// Package cms reads, checks and builds CMS SignedData (RFC 5652) as NuGet
// package signatures, repository countersignatures and RFC 3161 timestamp
// tokens use it, with the ESS signing-certificate attributes (RFC 2634,
// RFC 5035).
//
// Threat model: every byte given to Parse, Countersignatures and the
// attribute parsers comes from a package an attacker may have written. The
// parsers are bounded (limits.go), never panic, and accept only DER that
// marshals back byte for byte, so that what is verified is exactly what is
// stored. Signatures are verified over the bytes as received: the signed
// attributes are never re-encoded (real signers order them differently),
// and the signer's certificate is found by its identifier, never by its
// position in the bag. Unsigned attributes (timestamp tokens,
// countersignatures) are not covered by the signature; callers verify each
// on its own.
//
// What this package does not do: chain building, certificate policy, trust,
// or time validity (internal/pki, internal/tsp, nusig).
package cms
