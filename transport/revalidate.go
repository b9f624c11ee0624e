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
// rekey. A handshake that checked its peer before the call and completes
// after it is checked again as soon as its session exists.
//
// Chains are checked first for every session (no I/O), then the member
// repo. A closed session's Err wraps ErrNoLongerTrusted, names the reason
// and wraps the cause (pki.ErrRevoked, core.ErrNotFound, ...). A session
// whose check fails for a local reason (the member repo cannot be read) is
// kept, and its error returned; so is ctx's error if ctx ends first.
// Revalidate returns the number of sessions it closed.
func (e *Endpoint) Revalidate(ctx context.Context) (int, error) {
	// A session registered from here on compares its handshake's epoch
	// with this one; those registered before are in the snapshot below.
	e.policyEpoch.Add(1)
	sessions := e.Sessions()

	closed := 0
	live := sessions[:0]
	for _, s := range sessions {
		if reason, err := e.checkPeerChain(e.now(), s.peer); err != nil {
			n, _ := s.judge(reason, err) // a chain check does no I/O: never local
			closed += n
		} else {
			live = append(live, s)
		}
	}
	var errs []error
	for _, s := range live {
		if err := ctx.Err(); err != nil {
			return closed, errors.Join(append(errs, err)...)
		}
		n, err := s.judge(e.policy.checkMember(ctx, s.peer))
		closed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return closed, errors.Join(errs...)
}

// recheckLater checks s's peer against the policy on its own goroutine
// (the member repo may do I/O) and ends s if the peer no longer passes: s's
// handshake checked the peer before a Revalidate that did not see s.
func (e *Endpoint) recheckLater(s *Session) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if _, err := s.judge(e.checkPeer(e.now(), s.peer)); err != nil {
			e.cfg.Logger.Warn("transport: could not check a new session against the changed policy", "err", err)
		}
	}()
}

// judge applies a policy check's outcome to s: a verdict against the peer
// closes s, telling the peer (it reports 1 if s was still open); a local
// failure (ReasonInternal: the member repo could not be read) keeps s and
// is returned.
func (s *Session) judge(reason Reason, err error) (int, error) {
	switch {
	case err == nil:
		return 0, nil
	case reason == ReasonInternal:
		return 0, fmt.Errorf("transport: check of the session with %s: %w", s.peer.id.Short(), err)
	case s.isDone():
		return 0, nil
	}
	s.closeWith(fmt.Errorf("%w: %s: %w", ErrNoLongerTrusted, reason, err), true)
	return 1, nil
}
