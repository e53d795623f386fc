package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Code classifies an Error so that adapters (HTTP, CLI) can answer the right way. The web
// package maps each code to one HTTP status in one table.
type Code string

const (
	EInvalid      Code = "invalid"      // bad input: 400/422
	ENotFound     Code = "not_found"    // 404
	EConflict     Code = "conflict"     // state changed underneath: 409
	ETooLarge     Code = "too_large"    // payload over a limit: 413
	EUnauthorized Code = "unauthorized" // 401
	EForbidden    Code = "forbidden"    // 403
	EUnavailable  Code = "unavailable"  // a dependency is down: 503
	EInternal     Code = "internal"     // a bug or an unexpected failure: 500, never shown
)

// Error is a domain error with a message fit for users. Fields names offending input fields
// (field -> message) so forms and JSON clients can point at them.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error that names one field.
func FieldError(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EInvalid, Message: field + ": " + msg, Fields: map[string]string{field: msg}}
}

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

// ErrorCode returns the code of the first *Error in err's chain, or EInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err: the *Error's message, or a generic
// "internal error" so that unexpected failures never leak details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
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
