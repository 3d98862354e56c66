package tsp

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"math/big"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/tsp/tsptest"
)

// fuzzSeeds returns the corpus tokens and a request, a reply and a
// rejection of our own.
func fuzzSeeds(f *testing.F) (tokens, infos, requests, responses [][]byte) {
	for _, tk := range fixtureTokens(f, "real/*.nupkg") {
		tokens = append(tokens, tk.token)
		if info, err := tokenTSTInfo(tk.token); err == nil {
			infos = append(infos, info)
		}
	}
	p := tsptest.New(f, tsptest.Options{})
	d := sha256.Sum256([]byte("seed"))
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
		hh := h.New()
		hh.Write([]byte("seed"))
		req, err := NewRequest(h, hh.Sum(nil))
		if err != nil {
			f.Fatal(err)
		}
		der, _ := req.Marshal()
		requests = append(requests, der)
	}
	info := &TSTInfo{Policy: []int{1, 2, 3}, Hash: crypto.SHA256, HashedMessage: d[:], SerialNumber: big.NewInt(9),
		GenTime: time.Unix(1700000000, 5e8), HasAccuracy: true, Accuracy: 1500 * time.Microsecond, Nonce: big.NewInt(3),
		TSAName: []byte{0x82, 0x01, 'x'}, Ordering: true}
	raw, _ := info.Marshal()
	infos = append(infos, raw)
	s := &TokenSigner{Signer: p.Signer, Certificate: p.Cert, IncludeCertificates: true, IncludeESSv1: true}
	tok, err := s.Sign(info, info.GenTime)
	if err != nil {
		f.Fatal(err)
	}
	tokens = append(tokens, tok)
	granted, _ := (&Response{Status: StatusGranted, Token: tok}).Marshal()
	rejected, _ := (&Response{Status: StatusRejection, StatusStrings: []string{"no"}, FailInfo: FailBadAlg | FailSystemFailure}).Marshal()
	responses = append(responses, granted, rejected)
	for _, t := range tokens[:3] {
		r, _ := (&Response{Status: StatusGrantedWithMods, Token: t}).Marshal()
		responses = append(responses, r)
	}
	return
}

func FuzzParseRequest(f *testing.F) {
	_, _, reqs, _ := fuzzSeeds(f)
	for _, r := range reqs {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseRequest(der)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("parsed request does not marshal: %v", err)
		}
		r2, err := ParseRequest(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		out2, _ := r2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatal("marshal not stable")
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	_, _, _, resps := fuzzSeeds(f)
	for _, r := range resps {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseResponse(der)
		if err != nil {
			return
		}
		_ = r.Err()
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("parsed response does not marshal: %v", err)
		}
		if _, err := ParseResponse(out); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if r.Token != nil {
			if tok, err := ParseToken(r.Token); err == nil {
				tok.Verify([]byte("x"), VerifyOptions{})
			}
		}
	})
}

func FuzzParseTSTInfo(f *testing.F) {
	_, infos, _, _ := fuzzSeeds(f)
	for _, i := range infos {
		f.Add(i)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		info, err := ParseTSTInfo(der)
		if err != nil {
			return
		}
		_, _ = info.UpperLimit(), info.LowerLimit()
		out, err := info.Marshal()
		if err != nil {
			t.Fatalf("parsed TSTInfo does not marshal: %v", err)
		}
		info2, err := ParseTSTInfo(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !info2.GenTime.Equal(info.GenTime) || info2.Accuracy != info.Accuracy || info2.SerialNumber.Cmp(info.SerialNumber) != 0 {
			t.Fatalf("round trip changed fields: %+v vs %+v", info, info2)
		}
		out2, _ := info2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatal("marshal not stable")
		}
	})
}

func FuzzParseToken(f *testing.F) {
	toks, _, _, _ := fuzzSeeds(f)
	for _, tk := range toks {
		f.Add(tk)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		tok, err := ParseToken(der)
		if err != nil {
			return
		}
		_ = tok.String()
		for _, err := range tok.Verify([]byte("data"), VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: make([]byte, 32), Nonce: big.NewInt(1)}}) {
			if _, ok := err.(*CheckError); !ok {
				t.Fatalf("Verify returned %T, want *CheckError", err)
			}
		}
	})
}
