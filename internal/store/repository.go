package store

import "context"

// CountVersionsWithoutSignatureFacts counts the versions stored without
// signature facts: those pushed while the feed did not sign packages. When
// it is zero on a feed that signs every push, every package it serves is
// repository signed.
func (s *Store) CountVersionsWithoutSignatureFacts(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM versions WHERE signature IS NULL`).Scan(&n); err != nil {
		return 0, dbErr("counting unsigned versions", err)
	}
	return n, nil
}
