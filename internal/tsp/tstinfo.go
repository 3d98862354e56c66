package tsp

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/der"
)

// MaxTSTInfoSize bounds a TSTInfo. Real ones are 100–300 bytes; a TSA name
// and extensions fit comfortably in 64 KiB.
const MaxTSTInfoSize = 64 << 10

// maxAccuracySeconds bounds the accuracy seconds field. Real TSAs claim one
// second or less; anything near this bound makes a timestamp worthless, and
// the bound keeps time.Duration arithmetic far from overflow.
const maxAccuracySeconds = 366 * 24 * 60 * 60

// OIDETSIBaselinePolicy is the ETSI baseline time-stamp policy
// (ETSI EN 319 421, 0.4.0.2023.1.1). NuGet treats a TSTInfo with this policy
// and no accuracy as accurate to one second (spec 4.3).
var OIDETSIBaselinePolicy = asn1.ObjectIdentifier{0, 4, 0, 2023, 1, 1}

// etsiDefaultAccuracy is the accuracy assumed for the ETSI baseline policy.
const etsiDefaultAccuracy = time.Second

// TSTInfo is the signed content of a timestamp token (RFC 3161 section
// 2.4.2).
type TSTInfo struct {
	// Raw is the DER the TSTInfo was parsed from (the token's eContent).
	Raw []byte
	// Version is 1.
	Version int
	// Policy is the TSA policy under which the token was issued.
	Policy asn1.ObjectIdentifier
	// Hash is the imprint's hash algorithm, 0 when HashOID is unknown.
	Hash crypto.Hash
	// HashOID is the imprint's algorithm OID as sent.
	HashOID asn1.ObjectIdentifier
	// HashParamsNull records an explicit NULL algorithm parameter.
	HashParamsNull bool
	// HashedMessage is the imprint: the hash of the timestamped data.
	HashedMessage []byte
	// SerialNumber is unique per token of one TSA.
	SerialNumber *big.Int
	// GenTime is when the token was made, in UTC, fraction of second kept.
	GenTime time.Time
	// Accuracy is how far the true time may be from GenTime, when
	// HasAccuracy. Sub-fields absent from the encoding count as zero.
	Accuracy time.Duration
	// HasAccuracy records whether the accuracy field was present.
	HasAccuracy bool
	// Ordering claims that tokens of this TSA sort by GenTime.
	Ordering bool
	// Nonce echoes the request's nonce, or is nil.
	Nonce *big.Int
	// TSAName is the raw DER of the GeneralName inside the [0] tag, or nil.
	TSAName []byte
	// Extensions are the TSTInfo extensions.
	Extensions []Extension
}

// ParseTSTInfo parses a DER TSTInfo. An imprint algorithm this package does
// not know is not an error here (Hash is 0): verification reports it with
// the NuGet code for it (NU3030).
func ParseTSTInfo(b []byte) (*TSTInfo, error) {
	if len(b) > MaxTSTInfoSize {
		return nil, fmt.Errorf("tsp: TSTInfo of %d bytes exceeds %d", len(b), MaxTSTInfoSize)
	}
	t := &TSTInfo{Raw: b}
	in := cryptobyte.String(b)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("tsp: TSTInfo is not a DER SEQUENCE")
	}
	var version int64
	if !s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, errors.New("tsp: malformed TSTInfo version")
	}
	if version != 1 {
		return nil, fmt.Errorf("tsp: TSTInfo version %d, want 1", version)
	}
	t.Version = int(version)
	if !s.ReadASN1ObjectIdentifier(&t.Policy) {
		return nil, errors.New("tsp: malformed TSTInfo policy")
	}
	imp, err := readMessageImprint(&s)
	if err != nil && !errors.Is(err, ErrUnsupportedHash) {
		return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
	}
	t.Hash, t.HashOID, t.HashParamsNull, t.HashedMessage = imp.hash, imp.oid, imp.paramsNull, imp.digest
	if t.SerialNumber, err = readBoundedInteger(&s, "serial number"); err != nil {
		return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
	}
	if t.GenTime, err = readGeneralizedTime(&s); err != nil {
		return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
	}
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		if t.Accuracy, err = readAccuracy(&s); err != nil {
			return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
		}
		t.HasAccuracy = true
	}
	if !readOptionalBoolean(&s, &t.Ordering) {
		return nil, errors.New("tsp: malformed TSTInfo ordering")
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		if t.Nonce, err = readBoundedInteger(&s, "nonce"); err != nil {
			return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
		}
	}
	var name cryptobyte.String
	var hasName bool
	if !s.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errors.New("tsp: malformed TSTInfo tsa name")
	}
	if hasName {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !name.ReadAnyASN1Element(&gn, &tag) || !name.Empty() {
			return nil, errors.New("tsp: malformed TSTInfo tsa name")
		}
		t.TSAName = append([]byte(nil), gn...)
	}
	var exts cryptobyte.String
	var hasExts bool
	if !s.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return nil, errors.New("tsp: malformed TSTInfo extensions")
	}
	if hasExts {
		if t.Extensions, err = readExtensions(exts); err != nil {
			return nil, fmt.Errorf("tsp: TSTInfo: %w", err)
		}
	}
	if !s.Empty() {
		return nil, errors.New("tsp: trailing data in TSTInfo")
	}
	return t, nil
}

// readAccuracy reads an Accuracy (RFC 3161 section 2.4.2): optional
// seconds, then millis [0] and micros [1], each 1..999 when present.
func readAccuracy(s *cryptobyte.String) (time.Duration, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return 0, errors.New("malformed accuracy")
	}
	var secs, millis, micros int64
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		if !seq.ReadASN1Int64WithTag(&secs, cbasn1.INTEGER) || secs < 0 || secs > maxAccuracySeconds {
			return 0, errors.New("accuracy seconds out of range")
		}
	}
	for _, f := range []struct {
		tag cbasn1.Tag
		v   *int64
	}{{cbasn1.Tag(0).ContextSpecific(), &millis}, {cbasn1.Tag(1).ContextSpecific(), &micros}} {
		if seq.PeekASN1Tag(f.tag) {
			if !seq.ReadASN1Int64WithTag(f.v, f.tag) || *f.v < 1 || *f.v > 999 {
				return 0, errors.New("accuracy millis or micros out of 1..999")
			}
		}
	}
	if !seq.Empty() {
		return 0, errors.New("trailing data in accuracy")
	}
	return time.Duration(secs)*time.Second + time.Duration(millis)*time.Millisecond +
		time.Duration(micros)*time.Microsecond, nil
}

// addAccuracy writes d as an Accuracy, omitting zero fields as DER wants.
// Precision below a microsecond is dropped.
func addAccuracy(b *cryptobyte.Builder, d time.Duration) {
	secs := int64(d / time.Second)
	millis := int64(d % time.Second / time.Millisecond)
	micros := int64(d % time.Millisecond / time.Microsecond)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if secs != 0 {
			b.AddASN1Int64(secs)
		}
		if millis != 0 {
			b.AddASN1Int64WithTag(millis, cbasn1.Tag(0).ContextSpecific())
		}
		if micros != 0 {
			b.AddASN1Int64WithTag(micros, cbasn1.Tag(1).ContextSpecific())
		}
	})
}

// Marshal returns the DER of t built from its fields (Raw is ignored).
// GenTime is written in UTC with its fraction of a second, trailing zeros
// removed; Accuracy is written when HasAccuracy, to the microsecond.
func (t *TSTInfo) Marshal() ([]byte, error) {
	oid := t.HashOID
	if oid == nil {
		var ok bool
		if oid, ok = hashOID(t.Hash); !ok {
			return nil, fmt.Errorf("tsp: %w: %s", ErrUnsupportedHash, hashName(t.Hash))
		}
	}
	if t.Policy == nil || t.SerialNumber == nil {
		return nil, errors.New("tsp: TSTInfo needs a policy and a serial number")
	}
	if t.HasAccuracy && (t.Accuracy < 0 || t.Accuracy > maxAccuracySeconds*time.Second) {
		return nil, fmt.Errorf("tsp: accuracy %v out of range", t.Accuracy)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(t.Policy)
		addMessageImprint(b, oid, t.HashParamsNull, t.HashedMessage)
		b.AddASN1BigInt(t.SerialNumber)
		der.AddGeneralizedTime(b, t.GenTime)
		if t.HasAccuracy {
			addAccuracy(b, t.Accuracy)
		}
		if t.Ordering {
			b.AddASN1Boolean(true)
		}
		if t.Nonce != nil {
			b.AddASN1BigInt(t.Nonce)
		}
		if t.TSAName != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(t.TSAName)
			})
		}
		if len(t.Extensions) > 0 {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addExtensions(b, t.Extensions)
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tsp: marshal TSTInfo: %w", err)
	}
	return out, nil
}

// EffectiveAccuracy is the accuracy NuGet uses (spec 4.3): the encoded one
// when present; otherwise one second under the ETSI baseline policy and zero
// under any other.
func (t *TSTInfo) EffectiveAccuracy() time.Duration {
	switch {
	case t.HasAccuracy:
		return t.Accuracy
	case t.Policy.Equal(OIDETSIBaselinePolicy):
		return etsiDefaultAccuracy
	default:
		return 0
	}
}

// UpperLimit is the latest time the token may stand for: GenTime plus the
// effective accuracy (spec 4.3).
func (t *TSTInfo) UpperLimit() time.Time { return t.GenTime.Add(t.EffectiveAccuracy()) }

// LowerLimit is the earliest time the token may stand for: GenTime minus the
// effective accuracy (spec 4.3).
func (t *TSTInfo) LowerLimit() time.Time { return t.GenTime.Add(-t.EffectiveAccuracy()) }
