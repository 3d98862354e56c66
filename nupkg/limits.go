package nupkg

// Bounds on what a package may make this package do. Every one is far above
// what real packages need and low enough that a hostile file cannot make
// Open or Signature allocate much more than the limit.
const (
	// MaxSignatureSize bounds the .signature.p7s entry, which Signature reads
	// into memory. Real signatures are 5–30 KiB (an author signature, a
	// countersignature, two timestamps and their certificate bags); a
	// megabyte is an attack or a mistake.
	MaxSignatureSize = 1 << 20

	// MaxNuspecSize bounds the decompressed manifest. Real .nuspec files are
	// a few KiB, the largest (long release notes, dozens of dependency
	// groups) about 100 KiB.
	MaxNuspecSize = 4 << 20

	// maxEntries bounds the number of central directory headers Open keeps
	// in memory (about 200 bytes each). Four times what a non-Zip64 archive
	// can hold; real packages have at most a few thousand files.
	maxEntries = 1 << 18

	// maxCentralDirectorySize bounds the central directory Open reads, and
	// so the names, extra fields and comments it keeps. A 10,000-file
	// package has a central directory of about 1.5 MiB.
	maxCentralDirectorySize = 32 << 20

	// maxNameLength bounds one entry name: PATH_MAX on Linux. Real package
	// paths are under 300 bytes; NuGet itself extracts onto file systems
	// that refuse longer paths.
	maxNameLength = 4096

	// copyBufferSize is the read size of streamed copies and hashes: large
	// enough that a 1 GiB package costs a thousand reads, small enough to
	// be allocated per call.
	copyBufferSize = 1 << 20
)
