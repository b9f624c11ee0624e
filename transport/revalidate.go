package transport

import (
	"context"
	"errors"
	"fmt"
)

// Revalidate checks the peer of every established session against the peer
// policy again, at the current time, and closes each session whose peer no
// longer passes, telling the peer (its side ends with ErrPeerClosed). Call
// it after changing what the policy consults: a revocation list added to the
// trust store, a root removed, a member deleted from the allow-list repo.
// The change then takes effect at once rather than at each session's next
// rekey; handshakes that start after it already see it.
//
// A closed session's Err wraps ErrNoLongerTrusted, names the reason and
// wraps the cause (pki.ErrRevoked, core.ErrNotFound, ...). A session whose
// check fails for a local reason (the member repo cannot be read) is kept,
// and its error returned; so is ctx's error if ctx ends first. Revalidate
// returns the number of sessions it closed.
func (e *Endpoint) Revalidate(ctx context.Context) (int, error) {
	closed := 0
	var errs []error
	for _, s := range e.Sessions() {
		if err := ctx.Err(); err != nil {
			return closed, errors.Join(append(errs, err)...)
		}
		if s.isDone() {
			continue
		}
		reason, err := e.checkPeerChain(e.now(), s.peer)
		if err == nil {
			reason, err = e.policy.checkMember(ctx, s.peer)
		}
		switch {
		case err == nil:
		case reason == ReasonInternal:
			errs = append(errs, fmt.Errorf("transport: revalidate session with %s: %w", s.peer.id.Short(), err))
		default:
			s.closeWith(fmt.Errorf("%w: %s: %w", ErrNoLongerTrusted, reason, err), true)
			closed++
		}
	}
	return closed, errors.Join(errs...)
}
