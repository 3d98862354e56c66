// Package tsp implements the RFC 3161 Time-Stamp Protocol as NuGet uses it:
// requests, responses, TSTInfo, timestamp tokens and their verification, and
// an HTTP client with retries and failover between timestamp authorities.
//
// # Threat model
//
// Everything this package parses is untrusted: a timestamp token arrives
// inside a package from anyone, and a response arrives from a network peer
// that may be down, slow, hostile or simply wrong. Parsers are bounded (see
// the Max… and max… constants), never panic, and keep the raw bytes of every
// signed structure so that signatures are checked over the bytes as
// received. The token's CMS layer is internal/cms; this package reads and
// writes the RFC 3161 structures around it (TimeStampReq, TimeStampResp,
// TSTInfo) and applies the timestamp rules.
//
// A token is evidence only after [Token.Verify] passed and its certificate
// chain was built to a trusted timestamping root. Chain building is not done
// here (the caller's verification engine does it, with
// [Token.Certificates] as the untrusted pool); everything else NuGet checks
// about a token (spec section 4.3) is, one named function per rule, each
// failure carrying the NuGet code the NuGet client reports for it.
//
// # What a token proves
//
// A token binds a hash of some data (for NuGet: the signature value of the
// SignerInfo it is attached to) to a time, [TSTInfo.GenTime], within
// [TSTInfo.LowerLimit] and [TSTInfo.UpperLimit]. Package signing uses those
// limits to decide whether a signing certificate was valid at signing time
// (spec section 4.4).
package tsp
