// Package domain holds the domain errors every layer shares: an Error carries a Code that
// says what kind of failure it is and a Message fit for users, so the engine and the CMS
// report failures the same way and adapters (the web package's one table of HTTP statuses,
// the CLI's exit codes) answer each code one way.
package domain

import (
	"errors"
	"fmt"
)

// Code classifies an Error so that adapters (HTTP, CLI) can answer the right way.
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

// CodeOf returns the code of the first *Error in err's chain, or EInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// MessageOf returns the user-facing message of err: the *Error's message, or a generic
// "internal error" so that unexpected failures never leak details.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
