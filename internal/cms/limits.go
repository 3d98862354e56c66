package cms

// Bounds on what Parse and the attribute readers accept. Real NuGet
// signatures are 1.5–27 KiB with at most 7 certificates, one SignerInfo and
// 3–8 attributes per set; timestamp tokens and countersignatures live inside
// them. Each bound leaves room for legitimate growth and refuses the
// pathological.
const (
	// MaxSize bounds a ContentInfo given to Parse (and so every token and
	// countersignature inside it): a signature entry of more than 1 MiB is
	// an attack, not a signature.
	MaxSize = 1 << 20
	// maxCertificates bounds a certificate bag. Real bags hold 1–7
	// certificates (leaf, intermediates, roots, a countersigner's chain,
	// duplicates); 64 is ample and keeps parsing cheap.
	maxCertificates = 64
	// maxSignerInfos bounds the SignerInfos of one SignedData. NuGet and
	// RFC 3161 both require exactly one; the bound only lets a larger count
	// be reported rather than parsed.
	maxSignerInfos = 16
	// maxDigestAlgorithms bounds the digestAlgorithms SET (one per signer
	// in practice).
	maxDigestAlgorithms = 16
	// maxAttributes bounds the signed or unsigned attributes of one
	// SignerInfo. Real signers write 3–8 signed and 1–2 unsigned ones.
	maxAttributes = 64
	// maxAttributeValues bounds the values of one attribute. Real
	// attributes have one value; a few timestamp tokens or countersignatures
	// in one attribute are conceivable.
	maxAttributeValues = 32
	// maxCountersignatureDepth bounds the nesting of countersignatures
	// (a countersignature of a countersignature ...). NuGet uses one level.
	maxCountersignatureDepth = 4
	// maxESSCertIDs bounds the certs list of an ESS signing-certificate(-v2)
	// attribute. Real ones list one certificate; RFC 5035 allows a chain.
	maxESSCertIDs = 16
	// minRSABits is the smallest RSA key CheckSignature uses: crypto/rsa
	// refuses smaller ones, and reporting them as a bad signature would
	// mislead. NuGet's own policy (2048 bits, NU3014/NU3023) is applied
	// elsewhere.
	minRSABits = 1024
)
