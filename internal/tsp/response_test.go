package tsp

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestFailInfoEncoding(t *testing.T) {
	for _, tc := range []struct {
		f    FailInfo
		want string // BIT STRING contents
	}{
		{FailBadAlg, "0780"},
		{FailBadRequest, "0520"},
		{FailBadDataFormat, "0204"},
		{FailBadAlg | FailBadDataFormat, "0284"},
		{FailUnacceptedPolicy, "000001"},
		{FailUnacceptedExtension, "07000080"},
		{FailSystemFailure, "06000000 40"},
	} {
		got := marshalFailInfo(tc.f)
		want, _ := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
		if !bytes.Equal(got, want) {
			t.Errorf("%v: %x, want %x", tc.f, got, want)
		}
		back, err := parseFailInfo(got)
		if err != nil || back != tc.f {
			t.Errorf("%v: parsed back %v, %v", tc.f, back, err)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	tok := []byte{0x30, 0x03, 0x02, 0x01, 0x05}
	for _, r := range []*Response{
		{Status: StatusGranted, Token: tok},
		{Status: StatusGrantedWithMods, StatusStrings: []string{"ok", "ünïcode"}, Token: tok},
		{Status: StatusRejection, StatusStrings: []string{"unsupported algorithm"}, FailInfo: FailBadAlg},
		{Status: StatusWaiting},
	} {
		der, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseResponse(der)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got.Status != r.Status || got.FailInfo != r.FailInfo || !bytes.Equal(got.Token, r.Token) ||
			strings.Join(got.StatusStrings, "|") != strings.Join(r.StatusStrings, "|") {
			t.Errorf("got %+v, want %+v", got, r)
		}
		if (got.Err() == nil) != r.Granted() {
			t.Errorf("%v: Err() = %v", r.Status, got.Err())
		}
	}
	rej := &Response{Status: StatusRejection, StatusStrings: []string{"line1\nline2"}, FailInfo: FailBadAlg | FailBadRequest}
	msg := rej.Err().Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "badAlg|badRequest") || !strings.Contains(msg, "rejection") {
		t.Errorf("Err() = %q", msg)
	}
}

func TestParseResponseRejects(t *testing.T) {
	good, _ := (&Response{Status: StatusGranted, Token: []byte{0x30, 0x00}}).Marshal()
	for _, tc := range []struct {
		name string
		der  string
	}{
		{"empty", ""},
		{"not a sequence", "0400"},
		{"status 6", "3005300302010 6"},
		{"negative status", "30053003020 1ff"},
		{"bad utf8", "300a3008020102300330 01ff"},
		{"failInfo unused bits 8", "3009300702010203 020800"},
		{"failInfo too long", "300d300b0201020306 000000000000"},
		{"token not a sequence", "3007300302010004 00"},
		{"trailing", hex.EncodeToString(good) + "00"},
	} {
		der, err := hex.DecodeString(strings.ReplaceAll(tc.der, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := ParseResponse(der); err == nil {
			t.Errorf("%s: parsed", tc.name)
		}
	}
	if _, err := ParseResponse(make([]byte, MaxResponseSize+1)); err == nil {
		t.Error("oversized response parsed")
	}
}
