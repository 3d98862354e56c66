package account

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-nuget/signet/internal/nuget"
)

// The scopes of an API key, as nuget.org names them (NuGetGallery's
// NuGetScopes, and the shared spec's gallery-rules.md). A key holds one or
// more; the store keeps them as strings.
const (
	// ScopePush allows pushing new package ids and new versions of
	// existing ones.
	ScopePush = "package:push"
	// ScopePushVersion allows pushing new versions of existing package ids
	// only.
	ScopePushVersion = "package:pushversion"
	// ScopeUnlist allows unlisting and relisting versions.
	ScopeUnlist = "package:unlist"
)

// MaxGlobLength is the longest package id pattern, in characters: a longer
// one has more characters than any id it could match.
const MaxGlobLength = nuget.MaxIDLength

// An Action is what a request asks an API key to do.
type Action int

// The actions. The zero Action is none of them, and is refused.
const (
	// ActionPush pushes a package version (new id or not).
	ActionPush Action = iota + 1
	// ActionUnlist unlists or relists a package version.
	ActionUnlist
)

// String returns the action's name, as error messages show it.
func (a Action) String() string {
	switch a {
	case ActionPush:
		return "push"
	case ActionUnlist:
		return "unlist"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// A KeyGrant is what a stored API key allows, and the time of the request.
type KeyGrant struct {
	// Scopes are the key's scopes (ScopePush, …). Unknown strings grant
	// nothing.
	Scopes []string
	// Globs are package id patterns, in which "*" matches any run of
	// characters, compared ignoring case. The key covers the ids matching
	// one of them; with no globs it covers every id (that its owner owns:
	// the caller checks ownership).
	Globs []string
	// Expires is when the key stops working; zero if it never does.
	Expires time.Time
	// Now is the time of the request. It must be set.
	Now time.Time
}

var (
	// ErrKeyExpired means that the API key has expired.
	ErrKeyExpired = errors.New("account: API key has expired")
	// ErrKeyScope means that the API key has no scope allowing the action.
	ErrKeyScope = errors.New("account: API key does not allow this action")
	// ErrKeyPackage means that no glob of the API key matches the package
	// id.
	ErrKeyPackage = errors.New("account: API key does not cover this package")
	// ErrInvalidGrant means that a scope or glob given for a new API key is
	// not valid.
	ErrInvalidGrant = errors.New("account: invalid API key scope or pattern")
)

// Authorize decides whether a key with grant k may do action on the
// package packageID; idExists says whether the id is registered on the
// feed (a push of a new id needs ScopePush, a push of a new version of an
// existing id ScopePush or ScopePushVersion, an unlist ScopeUnlist). It
// returns nil, or an error wrapping ErrKeyExpired (checked first),
// ErrKeyScope or ErrKeyPackage, which the feed answers with 403; any other
// error is the caller's bug (zero Now, unknown action).
//
// Authorize checks the key alone. That the key's owner owns an existing
// id, or may create a new one (ID prefix reservations), is the caller's
// check.
func Authorize(k KeyGrant, action Action, packageID string, idExists bool) error {
	if k.Now.IsZero() {
		return errors.New("account: KeyGrant.Now is not set")
	}
	if !k.Expires.IsZero() && !k.Now.Before(k.Expires) {
		return fmt.Errorf("%w (at %s)", ErrKeyExpired, k.Expires.UTC().Format(time.RFC3339))
	}
	var allowed []string
	switch action {
	case ActionPush:
		allowed = []string{ScopePush}
		if idExists {
			allowed = append(allowed, ScopePushVersion)
		}
	case ActionUnlist:
		allowed = []string{ScopeUnlist}
	default:
		return fmt.Errorf("account: unknown action %v", action)
	}
	if !slices.ContainsFunc(k.Scopes, func(s string) bool { return slices.Contains(allowed, s) }) {
		if action == ActionPush && !idExists && slices.Contains(k.Scopes, ScopePushVersion) {
			return fmt.Errorf("%w: %s of a new package id %q needs scope %s", ErrKeyScope, action, packageID, ScopePush)
		}
		return fmt.Errorf("%w: %s needs scope %s", ErrKeyScope, action, strings.Join(allowed, " or "))
	}
	if len(k.Globs) > 0 && !slices.ContainsFunc(k.Globs, func(g string) bool { return matchGlob(g, packageID) }) {
		return fmt.Errorf("%w: %q", ErrKeyPackage, packageID)
	}
	return nil
}

// ValidateScope checks a scope given for a new API key: one of ScopePush,
// ScopePushVersion and ScopeUnlist. The error wraps ErrInvalidGrant.
func ValidateScope(s string) error {
	switch s {
	case ScopePush, ScopePushVersion, ScopeUnlist:
		return nil
	}
	return fmt.Errorf("%w: unknown scope %q", ErrInvalidGrant, s)
}

// ValidateGlob checks a package id pattern given for a new API key: 1 to
// MaxGlobLength characters, each "*" or a character allowed in a NuGet
// package id (a letter, digit, "_" and the like, ".", "-"). The error wraps
// ErrInvalidGrant.
func ValidateGlob(g string) error {
	if g == "" {
		return fmt.Errorf("%w: empty package id pattern", ErrInvalidGrant)
	}
	if len(g) > MaxGlobLength*utf8.UTFMax || utf8.RuneCountInString(g) > MaxGlobLength {
		return fmt.Errorf("%w: package id pattern is longer than %d characters", ErrInvalidGrant, MaxGlobLength)
	}
	for _, r := range g {
		// nuget.ValidID on a single character is NuGet's word-character
		// rule; "." and "-" are valid between words only.
		if r != '*' && r != '.' && r != '-' && !nuget.ValidID(string(r)) {
			return fmt.Errorf("%w: package id pattern %q has the character %q", ErrInvalidGrant, g, r)
		}
	}
	return nil
}

// maxMatchBytes bounds what matchGlob reads, so that a stored glob or a
// request's id, neither checked here, cannot make matching slow.
const maxMatchBytes = nuget.MaxIDLength * utf8.UTFMax

// matchGlob reports whether id matches glob, where "*" matches any run of
// characters (empty too) and other characters match themselves ignoring
// case (Unicode lower case, as the store compares ids). It takes
// O(len(glob)·len(id)) time at worst.
func matchGlob(glob, id string) bool {
	if len(glob) > maxMatchBytes || len(id) > maxMatchBytes {
		return false
	}
	g, s := []rune(strings.ToLower(glob)), []rune(strings.ToLower(id))
	// Greedy match; on a mismatch, let the last "*" absorb one more rune.
	gi, si := 0, 0
	star, starS := -1, 0
	for si < len(s) {
		switch {
		case gi < len(g) && g[gi] == '*':
			star, starS = gi, si
			gi++
		case gi < len(g) && g[gi] == s[si]:
			gi++
			si++
		case star >= 0:
			starS++
			gi, si = star+1, starS
		default:
			return false
		}
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g)
}
