// Package account holds the security primitives of the feed's accounts:
// password hashing and policy, API keys and their authorisation, TOTP
// second factors, recovery codes, and session and CSRF tokens.
//
// # Contract
//
// The package is pure: it reads crypto/rand and the clock it is given, and
// nothing else. It never touches the store, the network or a log, so a
// caller decides what is stored and what is said to a client. Every secret
// it makes is shown to its user once and stored only as a hash (passwords
// as argon2id PHC strings, API keys, recovery codes and session tokens as
// SHA-256), except TOTP secrets, which the server needs in the clear to
// compute codes. Every comparison of a secret is constant time. Every parser
// of client or database input bounds its input before working on it, and
// refuses what it does not understand with an error, never a panic.
//
// Errors a caller branches on are sentinel values tested with errors.Is:
//   - [ErrPasswordPolicy]: a new password is refused; the message is fit to
//     show the user.
//   - [ErrNoPassword], [ErrMalformedHash]: a stored password hash cannot be
//     used (the login fails; a malformed one is worth a log line).
//   - [ErrMalformedKey]: a string is not a Signet API key (answer 401/403
//     without a database lookup).
//   - [ErrKeyExpired], [ErrKeyScope], [ErrKeyPackage]: a valid key may not
//     do what it is asked (answer 403).
//   - [ErrInvalidGrant]: a scope or package id pattern given for a new key
//     is not valid (answer 400).
//   - [ErrMalformedToken]: a string is not a session token (treat as no
//     session).
//   - [ErrTOTPInvalid], [ErrTOTPReplayed]: a second-factor code is refused.
//
// # Threat model
//
// The attacker may send anything to the feed, and may read a copy of the
// database. Reading the database must not give them a password, an API key,
// a recovery code or a session: argon2id makes guessing passwords slow, and
// the other secrets have at least 60 bits of entropy (API keys and session
// tokens 256 bits), so a fast hash is enough. It does give them the TOTP
// secrets; a second factor protects against a stolen password, not against
// a stolen database. The attacker may also have written the database (a
// tampered row): a stored password hash is checked against bounds before
// use, so it cannot make a login allocate gigabytes.
//
// What this package does not do, and its callers must: limit the rate of
// login, TOTP and recovery-code attempts (a TOTP code is six digits); check
// that an API key's owner owns the package it pushes, and ID prefix
// reservations; store the TOTP step that [CheckTOTP] returns before
// answering; and mark a recovery code used.
package account
