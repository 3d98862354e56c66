package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"slices"
	"testing"
)

func attrTypes(attrs []Attribute) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a.Type.String())
	}
	return out
}

// TestUnsignedAttrMutators checks SetUnsignedAttr, AddUnsignedAttrValue and
// RemoveUnsignedAttr, and that Marshal returns Raw only while nothing
// changed.
func TestUnsignedAttrMutators(t *testing.T) {
	orig := authorSigned(t)
	sd := parseRoundTrip(t, orig)
	si := sd.SignerInfos[0]
	before := attrTypes(si.UnsignedAttrs)
	if !slices.Equal(before, []string{OIDTimeStampToken.String(), OIDCounterSignature.String()}) {
		t.Fatalf("unsigned attributes %v", before)
	}
	saved := slices.Clone(si.UnsignedAttrs)
	a, b, c := []byte{0x02, 0x01, 0x0a}, []byte{0x02, 0x01, 0x0b}, []byte{0x02, 0x01, 0x0c}
	other := asn1.ObjectIdentifier{1, 2, 3, 4}

	si.AddUnsignedAttrValue(other, b)
	si.AddUnsignedAttrValue(other, a)
	si.UnsignedAttrs = append(si.UnsignedAttrs, Attribute{Type: other, Values: [][]byte{c}})
	if got := si.UnsignedAttr(other); len(got) != 2 || len(got[0].Values) != 2 || !bytes.Equal(got[0].Values[1], a) {
		t.Fatalf("after adds: %v", got)
	}
	si.SetUnsignedAttr(Attribute{Type: other, Values: [][]byte{c}})
	if got := si.UnsignedAttr(other); len(got) != 1 || len(got[0].Values) != 1 || !bytes.Equal(got[0].Values[0], c) {
		t.Fatalf("after set: %v", got)
	}
	if got := attrTypes(si.UnsignedAttrs); !slices.Equal(got, append(before, other.String())) {
		t.Fatalf("set moved attributes: %v", got)
	}
	out, err := si.Marshal()
	if err != nil || bytes.Equal(out, si.Raw) {
		t.Fatalf("Marshal after a change returned Raw (err %v)", err)
	}
	re, err := parseSignerInfo(out, 0)
	if err != nil || !bytes.Equal(re.RawSignedAttrs, si.RawSignedAttrs) || !bytes.Equal(re.Signature, si.Signature) {
		t.Fatalf("rebuilt SignerInfo: %v", err)
	}
	if len(re.UnsignedAttr(other)) != 1 {
		t.Fatal("the new attribute is missing")
	}
	// The mutators never wrote into the parsed values.
	fresh := parseRoundTrip(t, orig).SignerInfos[0].UnsignedAttrs
	if !slices.EqualFunc(saved, fresh, func(x, y Attribute) bool {
		return x.Type.Equal(y.Type) && slices.EqualFunc(x.Values, y.Values, bytes.Equal)
	}) {
		t.Fatal("parsed attributes changed")
	}

	si.RemoveUnsignedAttr(other)
	if out, err := sd.Marshal(); err != nil || !bytes.Equal(out, orig) {
		t.Fatalf("undoing the changes did not give the original bytes back (err %v)", err)
	}
	si.RemoveUnsignedAttr(OIDCounterSignature)
	si.RemoveUnsignedAttr(OIDTimeStampToken)
	out, err = si.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	re, err = parseSignerInfo(out, 0)
	if err != nil || re.UnsignedAttrs != nil {
		t.Fatalf("without unsigned attributes: %v, %v", re, err)
	}
	if err := re.CheckSignature(mustSigner(t, sd, si), sd.EContent); err != nil {
		t.Fatal(err)
	}
}

func mustSigner(t *testing.T, sd *SignedData, si *SignerInfo) *x509.Certificate {
	t.Helper()
	c, err := sd.SignerCertificate(si)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCountersignatureDepth nests countersignatures deeper than
// maxCountersignatureDepth.
func TestCountersignatureDepth(t *testing.T) {
	p := getPKI(t)
	o := SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256}
	chain := []*SignerInfo{}
	si, err := NewSignerInfo(nugetContent, o)
	if err != nil {
		t.Fatal(err)
	}
	chain = append(chain, si)
	co := o
	co.Countersignature = true
	for range maxCountersignatureDepth + 1 {
		cs, err := NewSignerInfo(chain[len(chain)-1].Signature, co)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, cs)
	}
	for i := len(chain) - 1; i > 0; i-- {
		raw, err := chain[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		chain[i-1].AddUnsignedAttrValue(OIDCounterSignature, raw)
	}
	b, err := NewSignedData(OIDData, nugetContent, chain[0], [][]byte{p.leaf.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cur := parseRoundTrip(t, b).SignerInfos[0]
	for depth := 0; ; depth++ {
		cs, err := cur.Countersignatures()
		if depth == maxCountersignatureDepth {
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("depth %d: err = %v, want ErrLimit", depth, err)
			}
			return
		}
		if err != nil || len(cs) != 1 {
			t.Fatalf("depth %d: %d, %v", depth, len(cs), err)
		}
		if err := cs[0].CheckSignature(p.leaf, cur.Signature); err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		cur = cs[0]
	}
}
