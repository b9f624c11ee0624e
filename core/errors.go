package core

import "errors"

// Sentinel errors shared by every layer. Implementations wrap them with
// context; callers test with errors.Is.
var (
	// ErrNotFound reports that a record (member, key, session) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a failed compare-and-set: the stored revision differs
	// from the expected one.
	ErrConflict = errors.New("revision conflict")
	// ErrCompacted reports that a watch cannot resume from the requested
	// revision because the history it needs is gone; the caller should List again.
	ErrCompacted = errors.New("revision compacted")
	// ErrClosed reports use of a closed repository, connection or endpoint.
	ErrClosed = errors.New("closed")
	// ErrInvalidInput reports malformed input: a wrong size, an empty field, a
	// value out of range.
	ErrInvalidInput = errors.New("invalid input")
	// ErrVerification reports a signature, MAC or certificate that failed to verify.
	ErrVerification = errors.New("verification failed")
)
