package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// A Reservation reserves package ids for its owners, as nuget.org's ID
// prefix reservations do: nobody else can register a new id that matches.
type Reservation struct {
	// Pattern is the reserved id, or the reserved prefix when Prefix is set
	// ("Contoso." reserves "Contoso.Core"; nuget.org writes it "Contoso.*").
	Pattern string
	Prefix  bool
	// Owners are the accounts that may register matching ids, ordered by
	// name.
	Owners  []Account
	Created time.Time
}

// reservationMatch is the SQL condition, over reservations r, that the
// reservation covers the folded id in placeholder p. substr and length count
// characters in both dialects, as strings.HasPrefix on the folded strings
// does bytes of the same characters.
func reservationMatch(p string) string {
	return `((r.is_prefix AND substr(` + p + `, 1, length(r.pattern_key)) = r.pattern_key) OR
		(NOT r.is_prefix AND r.pattern_key = ` + p + `))`
}

// CreateReservation reserves pattern (an id, or a prefix if prefix is set)
// for owners. It returns ErrInvalid for an empty pattern or no owners,
// ErrNotFound if an owner does not exist, and ErrConflict if the pattern is
// reserved already (ignoring case).
func (s *Store) CreateReservation(ctx context.Context, pattern string, prefix bool, owners []int64) (Reservation, error) {
	if pattern == "" || strings.Contains(pattern, "*") {
		return Reservation{}, invalid("reservation pattern %q: empty or with '*'", pattern)
	}
	if len(owners) == 0 {
		return Reservation{}, invalid("reservation %q without owners", pattern)
	}
	r := Reservation{Pattern: pattern, Prefix: prefix, Created: s.clock()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		r.Owners = nil // write may run this more than once
		var row int64
		err := tx.QueryRowContext(ctx, `INSERT INTO reservations (pattern, pattern_key, is_prefix, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (pattern_key) DO NOTHING RETURNING id`,
			pattern, fold(pattern), prefix, micros(r.Created)).Scan(&row)
		if err != nil {
			return conflictIfNoRows(err, "reservation %q exists", pattern)
		}
		for _, o := range owners {
			a, err := s.findAccount(ctx, tx, o, "", false)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO reservation_owners (reservation, account_id) VALUES ($1, $2)
				ON CONFLICT (reservation, account_id) DO NOTHING`, row, o)
			if err != nil {
				return dbErr("adding reservation owner", err)
			}
			r.Owners = append(r.Owners, a)
		}
		return nil
	})
	if err != nil {
		return Reservation{}, err
	}
	sortAccounts(r.Owners)
	return r, nil
}

// DeleteReservation removes a reservation; ids registered under it keep
// their owners. It returns ErrNotFound if pattern is not reserved.
func (s *Store) DeleteReservation(ctx context.Context, pattern string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM reservations WHERE pattern_key = $1`, fold(pattern))
		if err != nil {
			return dbErr("deleting reservation", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: reservation %q", ErrNotFound, pattern)
		}
		return nil
	})
}

// AddReservationOwner adds an owner to a reservation. It returns ErrNotFound
// if either is missing and ErrConflict if the account owns it already.
func (s *Store) AddReservationOwner(ctx context.Context, pattern string, accountID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		row, err := s.lockReservation(ctx, tx, pattern)
		if err != nil {
			return err
		}
		if _, err := s.findAccount(ctx, tx, accountID, "", false); err != nil {
			return err
		}
		var added int64
		err = tx.QueryRowContext(ctx, `INSERT INTO reservation_owners (reservation, account_id) VALUES ($1, $2)
			ON CONFLICT (reservation, account_id) DO NOTHING RETURNING reservation`, row, accountID).Scan(&added)
		if err != nil {
			return conflictIfNoRows(err, "account %d already owns reservation %q", accountID, pattern)
		}
		return nil
	})
}

// RemoveReservationOwner removes an owner from a reservation. It returns
// ErrNotFound if the account is not an owner and ErrLastOwner if it is the
// only one (delete the reservation instead).
func (s *Store) RemoveReservationOwner(ctx context.Context, pattern string, accountID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		row, err := s.lockReservation(ctx, tx, pattern)
		if err != nil {
			return err
		}
		var owners, isOwner int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN account_id = $2 THEN 1 ELSE 0 END), 0)
			FROM reservation_owners WHERE reservation = $1`, row, accountID).Scan(&owners, &isOwner)
		if err != nil {
			return dbErr("counting reservation owners", err)
		}
		if isOwner == 0 {
			return fmt.Errorf("%w: account %d is not an owner of reservation %q", ErrNotFound, accountID, pattern)
		}
		if owners == 1 {
			return fmt.Errorf("%w of reservation %q", ErrLastOwner, pattern)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM reservation_owners WHERE reservation = $1 AND account_id = $2`, row, accountID)
		if err != nil {
			return dbErr("removing reservation owner", err)
		}
		return nil
	})
}

func (s *Store) lockReservation(ctx context.Context, tx *sql.Tx, pattern string) (int64, error) {
	var row int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM reservations WHERE pattern_key = $1`+s.d.forUpdate, fold(pattern)).Scan(&row)
	if err != nil {
		return 0, notFound(err, "reservation %q", pattern)
	}
	return row, nil
}

// Reservations returns every reservation, ordered by pattern.
func (s *Store) Reservations(ctx context.Context) ([]Reservation, error) {
	return s.reservations(ctx, s.r, "")
}

// MatchingReservations returns the reservations that cover id, ordered by
// pattern.
func (s *Store) MatchingReservations(ctx context.Context, id string) ([]Reservation, error) {
	var a args
	return s.reservations(ctx, s.r, `WHERE `+reservationMatch(a.add(fold(id))), a...)
}

// checkReservations returns ErrReserved if id is covered by reservations
// none of which owner owns.
func (s *Store) checkReservations(ctx context.Context, tx *sql.Tx, id string, owner int64) error {
	var a args
	rs, err := s.reservations(ctx, tx, `WHERE `+reservationMatch(a.add(fold(id))), a...)
	if err != nil || len(rs) == 0 {
		return err
	}
	for _, r := range rs {
		for _, o := range r.Owners {
			if o.ID == owner {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %q by reservation %q", ErrReserved, id, rs[0].Pattern)
}

func (s *Store) reservations(ctx context.Context, q querier, where string, args ...any) ([]Reservation, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.pattern, r.is_prefix, r.created_at, `+accountColumns+`
		FROM reservations r
		JOIN reservation_owners o ON o.reservation = r.id
		JOIN accounts a ON a.id = o.account_id `+where+`
		ORDER BY r.pattern_key, a.name_key`, args...)
	if err != nil {
		return nil, dbErr("reading reservations", err)
	}
	defer rows.Close()
	var out []Reservation
	last := int64(-1)
	for rows.Next() {
		var row, created int64
		var r Reservation
		a, err := scanAccount(rowPrefix{rows, []any{&row, &r.Pattern, &r.Prefix, &created}})
		if err != nil {
			return nil, dbErr("reading reservations", err)
		}
		if row != last {
			r.Created = fromMicros(created)
			out = append(out, r)
			last = row
		}
		out[len(out)-1].Owners = append(out[len(out)-1].Owners, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading reservations", err)
	}
	return out, nil
}

// rowPrefix scans leading columns into dest before the ones its caller
// passes.
type rowPrefix struct {
	rows *sql.Rows
	dest []any
}

func (r rowPrefix) Scan(dest ...any) error {
	return r.rows.Scan(append(r.dest, dest...)...)
}
