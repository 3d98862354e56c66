// Package trust reads and writes the trust policy of nuget.config files and
// applies it to verified packages (spec 5.5, 5.6 and 6.3).
//
// # Files and merging
//
// Load finds the files NuGet would (see Load): the directory walk, the user
// config and the read-only additional and machine-wide configs; LoadFile
// takes one file only, as --configfile does. Files merge from the furthest
// to the closest, so the closest file wins per item: an <author> replaces
// an author of the same name, a <repository> one of the same service index,
// an <add key> a key; <clear /> drops everything further files (and earlier
// lines of the section) said. Where NuGet silently reads a broken entry as
// something weaker (an unknown signatureValidationMode as accept, a
// duplicate entry dropped), Signet refuses the file with a *ConfigError
// naming file and line: a trust policy must not fail open.
//
// # Threat model
//
// The files are trusted input from the user, but they are parsed as
// untrusted bytes (bounded size and depth, strict XML, no entity
// expansion) because a repository's nuget.config arrives with a clone. What
// the policy guards against is a package signed by someone the user did not
// choose: the allow list pins certificates by fingerprint, or, with
// Signet's Identity extension, by the name a trusted CA vouched for. A
// repository entry trusts everything the repository countersigns (narrowed
// by owners), so listing authors makes the author signature decide alone
// (see Policy.Evaluate and NuGet/Home#13336).
//
// # Writing
//
// Documents are kept as order-preserving trees with the original bytes of
// every node, so a file is written back byte for byte except for the
// entries an edit added or removed; comments, unknown sections and the
// layout of the rest survive. Save replaces each changed file atomically.
//
// # Signet extensions, ignored by plain NuGet
//
//   - <certificateIdentity subject issuer eku /> inside <author> and
//     <repository> (see Identity);
//   - the <config> key revocationMode (online|offline), a file-level
//     equivalent of NUGET_CERT_REVOCATION_MODE (see Config.RevocationMode).
package trust
