package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/internal/store/storetest"
)

func TestSQLiteContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "signet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
