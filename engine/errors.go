package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inkflow/inkflow/internal/domain"
)

// The domain errors (package internal/domain), under the names the engine's API has always
// used: the CMS and the web package share them.
type (
	// Code classifies an Error so that adapters (HTTP, CLI) can answer the right way. The
	// web package maps each code to one HTTP status in one table.
	Code = domain.Code
	// Error is a domain error with a message fit for users; Fields names offending input
	// fields (field -> message).
	Error = domain.Error
)

const (
	EInvalid      = domain.EInvalid      // bad input: 400/422
	ENotFound     = domain.ENotFound     // 404
	EConflict     = domain.EConflict     // state changed underneath: 409
	ETooLarge     = domain.ETooLarge     // payload over a limit: 413
	EUnauthorized = domain.EUnauthorized // 401
	EForbidden    = domain.EForbidden    // 403
	EUnavailable  = domain.EUnavailable  // a dependency is down: 503
	EInternal     = domain.EInternal     // a bug or an unexpected failure: 500, never shown
)

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return domain.Errorf(code, format, args...)
}

// FieldError returns an EInvalid error that names one field.
func FieldError(field, format string, args ...any) *Error {
	return domain.FieldError(field, "%s", fmt.Sprintf(format, args...))
}

// ErrorCode returns the code of the first *Error in err's chain, or EInternal.
func ErrorCode(err error) Code { return domain.CodeOf(err) }

// ErrorMessage returns the user-facing message of err, or "internal error".
func ErrorMessage(err error) string { return domain.MessageOf(err) }

// checkText refuses text the databases cannot store alike: invalid UTF-8, or NUL (which
// PostgreSQL refuses in TEXT and SQLite keeps).
func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return FieldError(field, "is not valid UTF-8 text")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return FieldError(field, "contains a NUL character")
	}
	return nil
}

// nonRetriable marks a step error that must fail the run without further attempts.
type nonRetriable struct{ err error }

func (e nonRetriable) Error() string { return e.err.Error() }
func (e nonRetriable) Unwrap() error { return e.err }

// NonRetriable wraps err so that the step (and its run) fails at once, with no retry.
func NonRetriable(err error) error {
	if err == nil {
		return nil
	}
	return nonRetriable{err}
}

// IsNonRetriable reports whether err was wrapped by NonRetriable.
func IsNonRetriable(err error) bool {
	var nr nonRetriable
	return errors.As(err, &nr)
}

// retryAfter asks for the next attempt of a step no sooner than after.
type retryAfter struct {
	after time.Duration
	err   error
}

func (e retryAfter) Error() string { return e.err.Error() }
func (e retryAfter) Unwrap() error { return e.err }

// RetryAfter wraps err so that the next attempt of the failing step waits d instead of the
// exponential backoff (an AI provider's Retry-After header, for example).
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return retryAfter{after: d, err: err}
}

// retryDelay returns the delay asked for by RetryAfter in err's chain, if any.
func retryDelay(err error) (time.Duration, bool) {
	var ra retryAfter
	if errors.As(err, &ra) {
		return ra.after, true
	}
	return 0, false
}
