package cms

import "errors"

// Sentinel errors. Every error this package returns wraps one of them, so
// callers branch with errors.Is and never on message text. Returned errors
// read "cms: <context>: <sentinel>[: detail]".
var (
	// ErrMalformed: the bytes are not the DER structure expected (RFC 5652),
	// or have trailing data.
	ErrMalformed = errors.New("malformed structure")
	// ErrLimit: a named bound (size, count, nesting) was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupportedAlgorithm: a digest or signature algorithm, or key type,
	// this package does not accept.
	ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")
	// ErrMessageDigestAttribute: the signed attributes do not hold exactly
	// one message-digest attribute with exactly one OCTET STRING value
	// (RFC 5652 5.3, 11.2).
	ErrMessageDigestAttribute = errors.New("bad message-digest attribute")
	// ErrDigestMismatch: the message-digest attribute does not equal the
	// digest of the content (RFC 5652 5.4).
	ErrDigestMismatch = errors.New("message digest does not match the content")
	// ErrContentTypeAttribute: the content-type attribute is missing,
	// repeated, or differs from the eContentType, or is present on a
	// countersignature (RFC 5652 5.3, 11.1).
	ErrContentTypeAttribute = errors.New("bad content-type attribute")
	// ErrSignatureInvalid: the signature value does not verify with the
	// certificate's public key.
	ErrSignatureInvalid = errors.New("signature does not verify")
	// ErrSignerNotFound: no certificate in the bag matches the signer
	// identifier, or several distinct ones do and nothing tells them apart.
	ErrSignerNotFound = errors.New("signer certificate not found")
	// ErrNoContent: the SignedData is detached; the content must be given.
	ErrNoContent = errors.New("no encapsulated content")
	// ErrKeyMismatch: while building, the private key does not match the
	// certificate's public key.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrInvalidOptions: the building options are incomplete or contradict
	// RFC 5652 (for example a content-type attribute on a countersignature).
	ErrInvalidOptions = errors.New("invalid signer options")
	// ErrESSCertHash: an ESS ESSCertID(v2) certHash does not equal the
	// certificate's hash (RFC 2634 5.4, RFC 5035 4).
	ErrESSCertHash = errors.New("ESS certificate hash does not match")
	// ErrESSIssuerSerial: an ESS issuerSerial does not name the certificate.
	ErrESSIssuerSerial = errors.New("ESS issuerSerial does not match")
)
