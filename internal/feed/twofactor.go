package feed

import (
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// Two-factor authentication (RFC 6238 TOTP, with recovery codes) of the
// JSON API:
//
//	POST   /api/v1/account/2fa          start (or restart) an enrolment: {"secret","uri"}
//	GET    /api/v1/account/2fa/qr.png   the pending enrolment's URI as a QR code
//	POST   /api/v1/account/2fa/confirm  {"code"}: enable it; {"recoveryCodes"} shown once
//	DELETE /api/v1/account/2fa          {"code"}: disable it (TOTP or recovery code)
//
// and "otp" in POST /api/v1/session. A session remembers whether its log-in
// passed the second factor (store.Session.TwoFactor); managing signing
// certificates needs such a session.

// Bounds of second-factor codes.
const (
	// maxCodeFailures wrong codes of one account within loginFailureWindow
	// block its codes for the rest of the window. A TOTP code is six digits
	// and three are valid at a time (clock skew), so a guess succeeds with
	// odds of 3 in a million: five guesses per window is under 1 in 1,000
	// a day, for someone who knows the password already.
	maxCodeFailures = 5
	// codeFailureWeight makes the log-in limiter, which blocks at
	// maxLoginFailures, block codes at maxCodeFailures: each wrong code
	// counts this many times in the limiter of codes.
	codeFailureWeight = maxLoginFailures / maxCodeFailures
	// qrCodeSize is the width and height of the QR code image, in pixels:
	// large enough for a phone camera at arm's length.
	qrCodeSize = 256
)

// Messages of the second factor, fit to show the user.
const (
	msgCodeRequired = "this account uses two-factor authentication: send the code from your authenticator app, or a recovery code, as \"otp\""
	msgCodeWrong    = "the authentication code is wrong"
	msgCodeReplayed = "this authentication code was used already: wait for the next one"
	msgCodesBlocked = "too many wrong authentication codes for this account: try again later"
)

// totpEncoding writes a secret for typing into an app: base32 without
// padding, as in otpauth URIs.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// codeLimiter counts wrong second-factor codes per user, apart from wrong
// passwords: a log-in limiter whose failures weigh codeFailureWeight.
type codeLimiter struct{ l *limiter }

func newCodeLimiter() codeLimiter { return codeLimiter{newLimiter()} }

func codeKey(userID int64) string { return strconv.FormatInt(userID, 10) }

func (c codeLimiter) blocked(userID int64, now time.Time) bool {
	return c.l.blocked(codeKey(userID), now)
}

func (c codeLimiter) fail(userID int64, now time.Time) {
	for range codeFailureWeight {
		c.l.fail(codeKey(userID), now)
	}
}

func (c codeLimiter) reset(userID int64) { c.l.reset(codeKey(userID)) }

// errCodeWrong and errCodeReplayed are why checkCode refuses a code.
var (
	errCodeWrong    = errors.New("feed: wrong second-factor code")
	errCodeReplayed = errors.New("feed: second-factor code used already")
)

// checkCode checks a code a user with an enabled second factor typed: a
// TOTP code, accepted once (its time step is stored before it counts), or
// else an unused recovery code, which it marks used. It reports whether a
// recovery code was used; it returns errCodeWrong or errCodeReplayed for a
// refused code, another error for a failure of the store.
func (s *Server) checkCode(ctx context.Context, tf store.TwoFactor, code string) (recovery bool, err error) {
	step, err := account.CheckTOTP(tf.Secret, code, s.now(), tf.LastStep)
	switch {
	case err == nil:
		err := s.store.AcceptTOTPStep(ctx, tf.UserID, step)
		switch {
		case errors.Is(err, store.ErrConflict):
			return false, errCodeReplayed // accepted meanwhile, by another request
		case errors.Is(err, store.ErrNotFound):
			return false, errCodeWrong // the second factor was disabled meanwhile
		}
		return false, err
	case errors.Is(err, account.ErrTOTPReplayed):
		return false, errCodeReplayed
	case !errors.Is(err, account.ErrTOTPInvalid):
		return false, err
	}
	hashes, err := s.store.RecoveryCodeHashes(ctx, tf.UserID)
	if err != nil {
		return false, err
	}
	i, ok := account.MatchRecoveryCode(hashes, code)
	if !ok {
		return false, errCodeWrong
	}
	err = s.store.UseRecoveryCode(ctx, tf.UserID, hashes[i])
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return false, errCodeWrong // used meanwhile, or the second factor disabled
	}
	return err == nil, err
}

// codeRefused answers an error of checkCode: a refused code with status
// (401 at log-in, 400 elsewhere) and a body made by body, counting the
// failure; any other error with 500.
func (s *Server) codeRefused(w http.ResponseWriter, r *http.Request, codes codeLimiter, userID int64, err error, status int, body func(msg string) any) {
	switch {
	case errors.Is(err, errCodeWrong):
		codes.fail(userID, s.now())
		writeJSON(w, r, status, body(msgCodeWrong))
	case errors.Is(err, errCodeReplayed):
		codes.fail(userID, s.now())
		writeJSON(w, r, status, body(msgCodeReplayed))
	default:
		s.internal(w, r, err)
	}
}

// loginCodeError is the body of a log-in refused for its second factor.
type loginCodeError struct {
	Error             string `json:"error"`
	TwoFactorRequired bool   `json:"twoFactorRequired"`
}

func loginCodeBody(msg string) any { return loginCodeError{Error: msg, TwoFactorRequired: true} }

func apiErrorBody(msg string) any { return apiError{Error: msg} }

// loginSecondFactor is the second step of a log-in whose password was
// right: for a user with an enabled second factor it checks otp, answering
// the refusal itself (ok false). twoFactor reports whether the log-in
// passed a second factor.
func (s *Server) loginSecondFactor(w http.ResponseWriter, r *http.Request, codes codeLimiter, u store.User, otp string) (twoFactor, ok bool) {
	tf, err := s.store.TwoFactor(r.Context(), u.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !tf.Enabled {
		return false, true
	}
	if err != nil {
		s.internal(w, r, err)
		return false, false
	}
	if otp == "" {
		writeJSON(w, r, http.StatusUnauthorized, loginCodeBody(msgCodeRequired))
		return false, false
	}
	if codes.blocked(u.ID, s.now()) {
		writeError(w, http.StatusTooManyRequests, msgCodesBlocked)
		return false, false
	}
	recovery, err := s.checkCode(r.Context(), tf, otp)
	if err != nil {
		s.codeRefused(w, r, codes, u.ID, err, http.StatusUnauthorized, loginCodeBody)
		return false, false
	}
	codes.reset(u.ID)
	if recovery {
		s.log.Info("recovery code used", "user", u.Name, "left", tf.RecoveryCodesLeft-1)
	}
	return true, true
}

// recoveryCodesLeft is the number of unused recovery codes of an enabled
// second factor, nil otherwise.
func recoveryCodesLeft(tf store.TwoFactor) *int {
	if !tf.Enabled {
		return nil
	}
	return &tf.RecoveryCodesLeft
}

// totpIssuer names the feed in authenticator apps.
func (s *Server) totpIssuer() string { return "Signet " + s.base.Host }

// handleBeginTwoFactor is POST /api/v1/account/2fa: a new TOTP secret for
// the user's authenticator app, pending until confirmed.
func (s *Server) handleBeginTwoFactor(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	secret, err := account.NewTOTPSecret()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if _, err := s.store.BeginTwoFactor(r.Context(), a.user.ID, secret); err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, "two-factor authentication is enabled already: disable it first to enrol another device")
			return
		}
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]string{
		"secret": totpEncoding.EncodeToString(secret),
		"uri":    account.TOTPURI(s.totpIssuer(), a.user.Name, secret),
		"qrCode": s.URL("/api/v1/account/2fa/qr.png"),
	})
}

// pendingTwoFactor loads the user's pending enrolment, answering 404 or
// 409 itself when there is none.
func (s *Server) pendingTwoFactor(w http.ResponseWriter, r *http.Request, a *sessionAuth) (store.TwoFactor, bool) {
	tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no two-factor enrolment is pending: start one with POST /api/v1/account/2fa")
		return tf, false
	case err != nil:
		s.internal(w, r, err)
		return tf, false
	case tf.Enabled:
		writeError(w, http.StatusConflict, "two-factor authentication is enabled already")
		return tf, false
	}
	return tf, true
}

// handleTwoFactorQR is GET /api/v1/account/2fa/qr.png: the pending
// enrolment's otpauth URI as a QR code (it holds the secret: never cached).
func (s *Server) handleTwoFactorQR(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
	tf, ok := s.pendingTwoFactor(w, r, a)
	if !ok {
		return
	}
	png, err := qrcode.Encode(account.TOTPURI(s.totpIssuer(), a.user.Name, tf.Secret), qrcode.Medium, qrCodeSize)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(png)
}

// handleConfirmTwoFactor is POST /api/v1/account/2fa/confirm {"code"}: a
// first code from the app enables the second factor. The answer holds the
// recovery codes, shown once. The session is replaced by one marked as
// two-factor (a new cookie and CSRF token, in the answer), and the user's
// other sessions end.
func (s *Server) handleConfirmTwoFactor(codes codeLimiter) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
		var in struct {
			Code string `json:"code"`
		}
		if !decodeJSON(w, r, &in) {
			return
		}
		tf, ok := s.pendingTwoFactor(w, r, a)
		if !ok {
			return
		}
		if codes.blocked(a.user.ID, s.now()) {
			writeError(w, http.StatusTooManyRequests, msgCodesBlocked)
			return
		}
		step, err := account.CheckTOTP(tf.Secret, in.Code, s.now(), 0)
		if errors.Is(err, account.ErrTOTPInvalid) {
			codes.fail(a.user.ID, s.now())
			writeError(w, http.StatusBadRequest, msgCodeWrong+": type the current code from the app (and check the device's clock)")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		recovery, hashes, err := account.NewRecoveryCodes(account.RecoveryCodeCount)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		err = s.store.EnableTwoFactor(r.Context(), a.user.ID, tf.Secret, step, hashes)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			writeError(w, http.StatusConflict, "the enrolment changed meanwhile: start again with POST /api/v1/account/2fa")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		codes.reset(a.user.ID)
		na, err := s.startSession(w, r, a.user, true)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if _, err := s.store.DeleteUserSessions(r.Context(), a.user.ID, na.session.TokenHash); err != nil {
			s.log.Warn("ending other sessions after enabling two-factor authentication", "user", a.user.Name, "err", err)
		}
		s.log.Info("two-factor authentication enabled", "user", a.user.Name)
		writeJSON(w, r, http.StatusOK, struct {
			sessionJSON
			RecoveryCodes []string `json:"recoveryCodes"`
		}{toSessionJSON(na), recovery})
	}
}

// handleDisableTwoFactor is DELETE /api/v1/account/2fa {"code"}: a TOTP
// or recovery code disables the second factor, and the user's other
// sessions end. A pending enrolment is cancelled without a code.
func (s *Server) handleDisableTwoFactor(codes codeLimiter) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, a *sessionAuth) {
		tf, err := s.store.TwoFactor(r.Context(), a.user.ID)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "two-factor authentication is not enabled")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if tf.Enabled {
			var in struct {
				Code string `json:"code"`
			}
			if !decodeJSON(w, r, &in) {
				return
			}
			if codes.blocked(a.user.ID, s.now()) {
				writeError(w, http.StatusTooManyRequests, msgCodesBlocked)
				return
			}
			if _, err := s.checkCode(r.Context(), tf, in.Code); err != nil {
				s.codeRefused(w, r, codes, a.user.ID, err, http.StatusBadRequest, apiErrorBody)
				return
			}
			codes.reset(a.user.ID)
		}
		if err := s.store.DisableTwoFactor(r.Context(), a.user.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
		if tf.Enabled {
			if _, err := s.store.DeleteUserSessions(r.Context(), a.user.ID, a.session.TokenHash); err != nil {
				s.log.Warn("ending other sessions after disabling two-factor authentication", "user", a.user.Name, "err", err)
			}
			s.log.Info("two-factor authentication disabled", "user", a.user.Name)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
