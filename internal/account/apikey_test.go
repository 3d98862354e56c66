package account

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

const keyAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func TestNewAPIKey(t *testing.T) {
	key, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != APIKeyLength || !strings.HasPrefix(key, APIKeyPrefix) {
		t.Errorf("key has length %d and prefix %q; want %d and %q", len(key), key[:4], APIKeyLength, APIKeyPrefix)
	}
	if strings.Trim(key[len(APIKeyPrefix):], keyAlphabet) != "" {
		t.Errorf("key %q has characters outside %q", key, keyAlphabet)
	}
	if len(hash) != sha256.Size {
		t.Errorf("hash has %d bytes; want %d", len(hash), sha256.Size)
	}
	again, err := HashAPIKey(key)
	if err != nil || !bytes.Equal(again, hash) {
		t.Errorf("HashAPIKey(NewAPIKey key) = %x, %v; want %x", again, err, hash)
	}
	key2, hash2, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if key2 == key || bytes.Equal(hash2, hash) {
		t.Error("two new keys are equal")
	}
}

// TestHashAPIKeyTypos checks that the checksum catches every mistyped
// character and every swap of neighbouring characters.
func TestHashAPIKeyTypos(t *testing.T) {
	key, _, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(key) {
		for _, c := range keyAlphabet + "_S" {
			if byte(c) == key[i] {
				continue
			}
			typo := key[:i] + string(c) + key[i+1:]
			if _, err := HashAPIKey(typo); !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("HashAPIKey accepts %q (position %d changed): %v", typo, i, err)
			}
		}
		if i+1 < len(key) && key[i] != key[i+1] {
			swap := key[:i] + key[i+1:i+2] + key[i:i+1] + key[i+2:]
			if _, err := HashAPIKey(swap); !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("HashAPIKey accepts %q (positions %d, %d swapped): %v", swap, i, i+1, err)
			}
		}
	}
}

func TestHashAPIKeyMalformed(t *testing.T) {
	key, _, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"empty":       "",
		"upper case":  strings.ToUpper(key),
		"space after": key + " ",
		"space":       " " + key,
		"truncated":   key[:len(key)-1],
		"longer":      key + "a",
		"no prefix":   key[len(APIKeyPrefix):],
		"prefix only": APIKeyPrefix,
		"nuget key":   "oy2" + strings.Repeat("a", 43),
		"guid":        "0f8fad5b-d9cb-469f-a165-70867728950e",
		"padded":      key[:len(key)-2] + "==",
	}
	for name, k := range tests {
		if h, err := HashAPIKey(k); !errors.Is(err, ErrMalformedKey) || h != nil {
			t.Errorf("%s: HashAPIKey(%q) = %x, %v; want ErrMalformedKey", name, k, h, err)
		} else if len(k) > len(APIKeyPrefix) && strings.Contains(err.Error(), k) {
			t.Errorf("%s: error %q quotes the key", name, err)
		}
	}
}

func FuzzHashAPIKey(f *testing.F) {
	key, _, _ := NewAPIKey()
	f.Add(key)
	f.Add(strings.ToUpper(key))
	f.Add(APIKeyPrefix + strings.Repeat("a", APIKeyLength-len(APIKeyPrefix)))
	f.Add(APIKeyPrefix + strings.Repeat("7", APIKeyLength-len(APIKeyPrefix)))
	f.Add("")
	f.Fuzz(func(t *testing.T, k string) {
		h, err := HashAPIKey(k)
		if err != nil {
			if !errors.Is(err, ErrMalformedKey) || h != nil {
				t.Fatalf("HashAPIKey(%q) = %x, %v", k, h, err)
			}
			return
		}
		want := sha256.Sum256([]byte(k))
		if !bytes.Equal(h, want[:]) || len(k) != APIKeyLength || !strings.HasPrefix(k, APIKeyPrefix) ||
			strings.Trim(k[len(APIKeyPrefix):], keyAlphabet) != "" {
			t.Fatalf("HashAPIKey accepted %q, hash %x", k, h)
		}
	})
}
