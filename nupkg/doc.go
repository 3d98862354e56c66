// Package nupkg reads and writes the zip structure of NuGet packages
// (.nupkg): the central directory and local headers, the .nuspec manifest,
// the package signature entry (.signature.p7s), the signed-content hash
// (the package without its signature entry), and the bytes NuGet writes
// when it adds a signature.
//
// The rules are those of NuGet's client, summarised with their sources in
// the project's spec (spec/nuget-signatures.md sections 1 and 2); doc
// comments cite that spec by section ("spec 2.2").
//
// # Threat model
//
// Package bytes are untrusted: they come from uploads to a feed, from feeds
// during restore, from users' disks. Anything in them may be chosen by an
// attacker, including every length, count and offset. This package
// therefore:
//
//   - never reads a whole package into memory: Open keeps only the central
//     directory, and WriteUnsigned, HashUnsigned and Sign stream through one
//     1 MiB buffer, so a 1 GiB package costs what a 1 KiB one does in memory;
//   - bounds what it does keep, with named constants: the entry count, the
//     central directory size, name lengths, the signature entry
//     (MaxSignatureSize) and the manifest (MaxNuspecSize);
//   - checks every offset and size against the file before using it, refuses
//     overlapping entries and data that runs into the central directory, and
//     never panics on malformed input (fuzzed, and differentially against
//     archive/zip);
//   - reads entries with their declared size as a hard limit and checks their
//     CRC-32, so decompression cannot be used to make a reader allocate or
//     write more than the central directory announced;
//   - is strict where NuGet is lax in ways that only a crafted file would
//     exercise (bytes after the archive comment, a signature entry whose CRC
//     or local header disagrees with its central directory header), refusing
//     such files rather than guessing which reading an attacker intended.
//
// What this package does not judge: the signature itself (package nusig
// parses and verifies the CMS), and whether entry names are safe to extract
// (a restore must refuse "..", absolute paths and the like).
//
// A Package is read-only and safe for concurrent use if its io.ReaderAt is.
// Errors that NuGet reports with an NU code are *Error values carrying it.
package nupkg
