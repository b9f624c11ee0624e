package transport

import (
	"errors"
	"fmt"
	"time"
)

// tickLoop drives every timer of the endpoint from one goroutine: handshake
// retransmissions and timeouts, keepalives, rekeys, key expiry and session
// timeouts. Deadlines are compared with the configured clock, so tests with
// a fake clock only have to move it.
func (e *Endpoint) tickLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			e.tick(e.now())
		case <-e.closing:
			return
		}
	}
}

func (e *Endpoint) tick(now time.Time) {
	if n := e.m1s.expire(now); n > 0 {
		e.stats.reassemblyDrops.Add(uint64(n))
	}
	e.mu.Lock()
	inits := make([]*initiatorState, 0, len(e.initiators))
	for st := range e.initiators {
		inits = append(inits, st)
	}
	resps := make([]*responderState, 0, len(e.responders))
	for _, rs := range e.responders {
		resps = append(resps, rs)
	}
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.mu.Unlock()
	for _, st := range inits {
		st.tick(now)
	}
	for _, rs := range resps {
		rs.tick(now)
	}
	for _, s := range sessions {
		s.tick(now)
	}
}

// tick enforces the session's timers: idle timeout, key expiry, rekey,
// expiry of the previous keys and keepalive.
func (s *Session) tick(now time.Time) {
	if s.isDone() {
		return
	}
	cfg := &s.e.cfg
	if idle := now.Sub(time.Unix(0, s.lastRecv.Load())); idle >= cfg.IdleTimeout {
		s.closeWith(fmt.Errorf("%w: no authenticated packet for %v", ErrSessionTimeout, idle.Round(time.Millisecond)), true)
		return
	}
	kp := s.current.Load()
	age := now.Sub(kp.created)
	if age >= cfg.RejectAfter || kp.sendCount.Load() >= cfg.Limits.RejectAfterMessages {
		s.closeWith(fmt.Errorf("%w: keys %v old after %d records; every rekey failed", ErrKeysExpired, age.Round(time.Second), kp.sendCount.Load()), true)
		return
	}
	rekeyAt := cfg.RekeyAfter
	if !kp.initiator {
		rekeyAt += responderRekeyDelay
	}
	s.mu.Lock()
	// A rekey's handshake flights are not budgeted like records, so they
	// wait until a roamed-to address is validated (roaming.go).
	due := (age >= rekeyAt || kp.sendCount.Load() >= cfg.Limits.RekeyAfterMessages) && s.rekeying == nil && !now.Before(s.rekeyNext) &&
		s.remote.Load().validated.Load()
	prev := s.previous
	if prev != nil && now.Sub(prev.created) >= cfg.RejectAfter {
		s.previous = nil
	} else {
		prev = nil
	}
	s.mu.Unlock()
	if prev != nil {
		s.e.index.removeKeypair(prev.localIndex, prev)
	}
	if due {
		s.startRekey(now)
	}
	s.challengeTick(now)
	if now.Sub(time.Unix(0, s.lastSent.Load())) >= cfg.KeepaliveInterval {
		s.sendRecord(contentKeepalive, nil)
	}
}

// startRekey begins a fresh handshake for the session; the current keys
// keep working until the new ones are confirmed, so nothing stalls.
func (s *Session) startRekey(now time.Time) {
	ra := s.remote.Load()
	st, err := s.e.newInitiator(ra.ap, ra.addr, s)
	if err != nil {
		s.mu.Lock()
		s.rekeyNext = now.Add(rekeyRetryInterval)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	if s.rekeying != nil || s.isDone() {
		s.mu.Unlock()
		s.e.index.removeHandshake(st.index, st, nil)
		return
	}
	s.rekeying = st
	s.mu.Unlock()
	s.e.mu.Lock()
	if s.e.closed {
		s.e.mu.Unlock()
		st.fail(&HandshakeError{Reason: ReasonInternal, Err: errors.New("endpoint closed")})
		return
	}
	s.e.initiators[st] = struct{}{}
	s.e.mu.Unlock()
	st.start()
}

// rekeyFinished clears a completed rekey.
func (s *Session) rekeyFinished(st *initiatorState) {
	s.mu.Lock()
	if s.rekeying == st {
		s.rekeying = nil
	}
	s.mu.Unlock()
}

// rekeyFailed schedules another attempt, or ends the session when the peer
// refused us or no longer knows the session (it restarted), or when we
// refused the peer (its certificate was revoked, it left the allow-list);
// a refusal for a local failure (ReasonInternal) is retried.
func (s *Session) rekeyFailed(st *initiatorState, herr *HandshakeError) {
	s.mu.Lock()
	if s.rekeying == st {
		s.rekeying = nil
	}
	s.rekeyNext = s.e.now().Add(rekeyRetryInterval)
	s.mu.Unlock()
	if s.isDone() {
		return
	}
	switch {
	case herr.Reason == ReasonStaleSession:
		s.closeWith(fmt.Errorf("%w: the peer no longer has this session (did it restart?)", ErrPeerClosed), false)
	case herr.Reason == ReasonInternal:
		// A local failure on either side (a member repo that did not
		// answer) may pass: retried, and the keys still end at RejectAfter.
	case errors.Is(herr, ErrRefusedByPeer), errors.Is(herr, ErrRefused) && herr.Reason != ReasonDecrypt && herr.Reason != ReasonMalformed:
		s.closeWith(fmt.Errorf("transport: rekey: %w", herr), true)
	}
}
