// Package cli holds what every command shares: exit codes, one-line error
// reporting, output-format handling and escaping of untrusted text.
package cli

import (
	"errors"
	"fmt"
)

// Exit statuses. They are part of the documented contract (README).
const (
	ExitOK       = 0 // success
	ExitError    = 1 // could not run: cluster, network, RBAC, bad input data
	ExitUsage    = 2 // bad flags or arguments
	ExitFindings = 3 // ran fine, but findings reached --fail-on
	// ExitIncomplete: get ran and printed a report, but some lookups failed
	// (or stayed silent unexpectedly): it could not see all it was asked to.
	ExitIncomplete = 4
	// ExitNothingSeen: a live tap (tap, unmatched) ended without seeing
	// a single event.
	ExitNothingSeen = 5
	// ExitInterrupted: Ctrl-C ended the run before it finished (128+SIGINT).
	ExitInterrupted = 130
)

// ExitError carries an exit status and a one-line message for the user.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Usagef reports a usage error (bad flag, bad argument).
func Usagef(format string, args ...interface{}) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Findings reports that a command ran but its findings reached the threshold.
func Findings(format string, args ...interface{}) error {
	return &Error{Code: ExitFindings, Err: fmt.Errorf(format, args...)}
}

// CodeOf returns the exit status for err.
func CodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitError
}
