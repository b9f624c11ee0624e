package transport

import (
	"errors"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Sentinel errors; returned errors wrap them (and core's) for errors.Is.
var (
	// ErrHandshakeTimeout reports a handshake that did not complete in time;
	// the error also names the last failure seen, if any.
	ErrHandshakeTimeout = errors.New("transport: handshake timed out")
	// ErrRefused reports that this side refused the peer (policy, chain,
	// signature or Finished check); it wraps core.ErrVerification.
	ErrRefused = fmt.Errorf("transport: peer refused: %w", core.ErrVerification)
	// ErrRefusedByPeer reports that the peer refused this side's identity.
	ErrRefusedByPeer = errors.New("transport: refused by peer")
	// ErrSessionTimeout reports a session closed because no authenticated
	// packet arrived within the idle timeout; its streams fail with it.
	ErrSessionTimeout = errors.New("transport: session timed out")
	// ErrPeerClosed reports a session the peer closed explicitly.
	ErrPeerClosed = errors.New("transport: session closed by peer")
	// ErrSessionClosed reports a session closed locally (Session.Close or
	// Endpoint.Close); it wraps core.ErrClosed.
	ErrSessionClosed = fmt.Errorf("transport: session closed: %w", core.ErrClosed)
	// ErrKeysExpired reports a session whose keys reached the reject limit
	// (age or record count) because every rekey attempt failed.
	ErrKeysExpired = errors.New("transport: session keys expired")
	// ErrSessionReplaced reports a session superseded by a new session with
	// the same peer (the peer restarted and dialed again).
	ErrSessionReplaced = errors.New("transport: session replaced by a new one with the same peer")
	// ErrNoLongerTrusted reports a session that Revalidate closed because its
	// peer no longer passes the peer policy (a certificate revoked or
	// expired since, a root removed, a member deleted); it wraps ErrRefused.
	ErrNoLongerTrusted = fmt.Errorf("transport: peer no longer passes the policy: %w", ErrRefused)
	// ErrMessageTooLarge reports a message or datagram over its size limit;
	// it wraps core.ErrInvalidInput.
	ErrMessageTooLarge = fmt.Errorf("transport: message too large: %w", core.ErrInvalidInput)
)

// Reason classifies why a handshake failed; metrics count failures by it and
// a responder tells a refused initiator the reason of its refusal.
type Reason uint8

// Handshake failure reasons.
const (
	ReasonNone             Reason = iota
	ReasonMalformed               // a message failed to parse
	ReasonUnsupported             // unknown version or suite
	ReasonDecrypt                 // a sealed payload failed to authenticate (tamper, splice)
	ReasonBadSignature            // the transcript signature failed to verify
	ReasonBadFinished             // the Finished MAC failed to verify
	ReasonBadCertificate          // a certificate failed to parse or is unusable
	ReasonUntrusted               // the chain does not lead to a trusted root
	ReasonExpired                 // a certificate is outside its validity window
	ReasonRevoked                 // a certificate is revoked
	ReasonNotAllowed              // the peer is not in the allow-list / pinned set
	ReasonUnknownReference        // a chain reference names no chain we hold
	ReasonStaleSession            // a rekey named a session that does not exist
	ReasonSuperseded              // a simultaneous open lost the tie-break
	ReasonTimeout                 // the handshake timed out
	ReasonInternal                // a local failure (randomness, encoding)
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone:             "none",
	ReasonMalformed:        "malformed message",
	ReasonUnsupported:      "unsupported version or suite",
	ReasonDecrypt:          "payload failed to authenticate",
	ReasonBadSignature:     "bad transcript signature",
	ReasonBadFinished:      "bad finished MAC",
	ReasonBadCertificate:   "bad certificate",
	ReasonUntrusted:        "untrusted certificate chain",
	ReasonExpired:          "certificate expired or not yet valid",
	ReasonRevoked:          "certificate revoked",
	ReasonNotAllowed:       "peer not allowed",
	ReasonUnknownReference: "unknown chain reference",
	ReasonStaleSession:     "rekey of an unknown session",
	ReasonSuperseded:       "superseded by a simultaneous open",
	ReasonTimeout:          "timeout",
	ReasonInternal:         "internal error",
}

// String names the reason.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// HandshakeError is a failed handshake: the reason and the underlying error.
// It wraps ErrRefused (this side refused the peer), ErrRefusedByPeer or
// ErrHandshakeTimeout as appropriate, and the cause.
type HandshakeError struct {
	// Reason classifies the failure.
	Reason Reason
	// Peer is the remote address.
	Peer string
	// Err is the underlying error.
	Err  error
	kind error
}

// Error describes the failure.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("transport: handshake with %s: %s: %v", e.Peer, e.Reason, e.Err)
}

// Unwrap returns the kind (ErrRefused, ErrRefusedByPeer, ErrHandshakeTimeout) and the cause.
func (e *HandshakeError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.Err}
	}
	return []error{e.kind, e.Err}
}

// refusal builds a HandshakeError for a peer this side refuses.
func refusal(reason Reason, err error) *HandshakeError {
	return &HandshakeError{Reason: reason, Err: err, kind: ErrRefused}
}
