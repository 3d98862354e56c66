package cms

import (
	"bytes"
	"testing"
)

// FuzzParse feeds Parse (and the SignerInfo parser, for countersignatures)
// the corpus signatures, their timestamp tokens and countersignatures. It
// must never panic, and whatever parses must marshal back to the same
// bytes; every reader and check on the result must run without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fixtureSignatures(f) {
		f.Add(s.p7s)
		sd, err := Parse(s.p7s)
		if err != nil {
			f.Fatal(err)
		}
		for _, si := range sd.SignerInfos {
			for _, a := range si.UnsignedAttrs {
				for _, v := range a.Values {
					f.Add(v) // tokens (ContentInfo) and countersignatures (SignerInfo)
				}
			}
			cs, err := si.Countersignatures()
			if err != nil {
				f.Fatal(err)
			}
			for _, c := range cs {
				for _, a := range c.UnsignedAttr(OIDTimeStampToken) {
					f.Add(a.Values[0])
				}
			}
		}
	}
	f.Add([]byte("content"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if sd, err := Parse(in); err == nil {
			out, err := sd.Marshal()
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("Marshal differs from the input (err %v)", err)
			}
			for _, si := range sd.SignerInfos {
				exercise(t, sd, si)
			}
		}
		if si, err := parseSignerInfo(in, 0); err == nil {
			out, err := si.Marshal()
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("SignerInfo Marshal differs from the input (err %v)", err)
			}
			exercise(t, &SignedData{}, si)
		}
	})
}

// exercise runs every reader and check on si without caring about the
// results, only that none panics and countersignatures round-trip.
func exercise(t *testing.T, sd *SignedData, si *SignerInfo) {
	cert, err := sd.SignerCertificate(si)
	if err == nil {
		_ = sd.CheckSignerInfo(si, cert)
		_ = si.CheckSignature(cert, si.Signature)
	}
	_, _ = si.Hash()
	_ = si.CheckContentType(nil)
	for _, a := range si.SignedAttrs {
		for _, v := range a.Values {
			_, _ = ParseSigningTime(v)
			_, _ = ParseSigningCertificateV2(v)
			_, _ = ParseSigningCertificate(v)
		}
	}
	cs, err := si.Countersignatures()
	if err != nil {
		return
	}
	for _, c := range cs {
		out, err := c.Marshal()
		if err != nil || !bytes.Equal(out, c.Raw) {
			t.Fatalf("countersignature Marshal differs (err %v)", err)
		}
		exercise(t, sd, c)
	}
}
