package revocation

import (
	"context"
	"errors"
	"testing"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/nusig"
)

func TestCheckImplementsNusig(t *testing.T) {
	e := newEnv(t)
	revoked := e.issue(t, devpki.LeafOptions{})
	at := e.revoke(t, revoked, devpki.ReasonKeyCompromise)
	var c nusig.RevocationChecker = checker()
	if st, _, err := c.Check(context.Background(), e.leaf, e.inter.Cert); st != nusig.RevocationGood || err != nil {
		t.Errorf("good: %v, %v", st, err)
	}
	if st, when, err := c.Check(context.Background(), revoked, e.inter.Cert); st != nusig.RevocationRevoked || !when.Equal(at) || err != nil {
		t.Errorf("revoked: %v at %v, %v", st, when, err)
	}
	offline := &Checker{Mode: Offline}
	if st, _, err := offline.Check(context.Background(), e.leaf, e.inter.Cert); st != nusig.RevocationUnknown || !errors.Is(err, ErrOffline) {
		t.Errorf("offline: %v, %v", st, err)
	}
}
