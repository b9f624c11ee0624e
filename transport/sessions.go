package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/snowmerak/clustering/core"
)

// simultaneousOpenWindow is how long after a session we initiated is
// established a new-session M3 from its peer is still taken for the losing
// half of a simultaneous open (and refused) rather than for a peer that
// restarted (which replaces the session).
const simultaneousOpenWindow = 2 * time.Second

// Dial returns a session with the peer at addr ("host:port"): an existing
// one if there is a session with that address, otherwise the result of a
// handshake (shared with concurrent Dials of the same address). If both
// ends dial each other at once, both Dials return the same single session.
// It returns as soon as the keys are confirmed; the first Send or
// OpenStream waits for the multiplexer if it is still starting.
func (e *Endpoint) Dial(ctx context.Context, addr string) (*Session, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %q: %v: %w", addr, err, core.ErrInvalidInput)
	}
	ap, _ := addrPortOf(ua)
	netAddr := net.UDPAddrFromAddrPort(ap)
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, fmt.Errorf("transport: dial %s: %w", ap, core.ErrClosed)
		}
		if s := e.byAddr[ap]; s != nil {
			e.mu.Unlock()
			return s.live()
		}
		st := e.dials[ap]
		e.mu.Unlock()
		if st == nil {
			fresh, err := e.newInitiator(ap, netAddr, nil)
			if err != nil {
				return nil, err
			}
			e.mu.Lock()
			if st = e.dials[ap]; st == nil && !e.closed {
				st = fresh
				e.dials[ap] = st
				e.initiators[st] = struct{}{}
			}
			e.mu.Unlock()
			if st == fresh {
				st.start()
			} else {
				e.index.removeHandshake(fresh.index, fresh, nil)
				if st == nil {
					continue // closed meanwhile: the loop reports it
				}
			}
		}
		select {
		case <-st.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if st.err != nil {
			return nil, st.err
		}
		return st.result.live()
	}
}

// ctx is a context that ends when the endpoint closes.
func (e *Endpoint) ctx() context.Context { return e.baseCtx }

// chainFrom returns the parsed chain for DER certificates, from the cache
// when this chain was seen before (the policy still checks it), and whether
// it was parsed now (a chain not seen before).
func (e *Endpoint) chainFrom(ders [][]byte) (*peerChain, bool, error) {
	fp := chainFingerprint(ders)
	if pc := e.chains.get(fp); pc != nil {
		return pc, false, nil
	}
	pc, err := parseChain(ders, fp, e.schemes, e.cfg.Policy.Trust)
	return pc, true, err
}

// resolvePeerChain returns the initiator's chain named in M3: sent in full,
// or by reference to a chain we hold (a cached one or a live session's),
// and whether it is new to us (parsed now, never verified before).
func (e *Endpoint) resolvePeerChain(id identity) (*peerChain, bool, Reason, error) {
	if id.kind == certChain {
		pc, fresh, err := e.chainFrom(id.chain)
		if err != nil {
			return nil, false, ReasonBadCertificate, err
		}
		return pc, fresh, ReasonNone, nil
	}
	if pc := e.chains.get(id.reference); pc != nil {
		return pc, false, ReasonNone, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sessions {
		if s.peer.fingerprint == id.reference {
			return s.peer, false, ReasonNone, nil
		}
	}
	return nil, false, ReasonUnknownReference, errors.New("initiator named a chain we do not hold")
}

// beginOutbound records that a new-session handshake now knows its peer, or
// returns the session that peer already has.
func (e *Endpoint) beginOutbound(st *initiatorState, pc *peerChain) *Session {
	if st.rekey != nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.sessions[pc.id]; s != nil {
		return s
	}
	st.mu.Lock()
	live := st.stage == stageWaitM2
	st.mu.Unlock()
	if live {
		e.outbound[pc.id] = st
	}
	return nil
}

// acceptInbound installs the keys of a verified M3: a rekey of the session
// it names, or a new session, after settling a simultaneous open.
func (e *Endpoint) acceptInbound(rs *responderState, pc *peerChain, id identity, kp *keypair, traffic trafficKeys, checked uint64) (Reason, error) {
	peer := pc.id
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ReasonInternal, fmt.Errorf("endpoint closed: %w", core.ErrClosed)
	}
	if id.intent == intentRekey {
		s := e.sessions[peer]
		if s == nil || s.id != id.sessionID {
			e.mu.Unlock()
			return ReasonStaleSession, fmt.Errorf("rekey names session %x, which node %s does not have here", id.sessionID, peer.Short())
		}
		kp.sess = s
		e.index.set(kp.localIndex, indexEntry{kp: kp})
		e.mu.Unlock()
		s.rotate(kp)
		e.stats.rekeys.Add(1)
		s.sendWith(kp, contentKeepalive, nil)
		return ReasonNone, nil
	}
	localWins := bytes.Compare(e.local.id[:], peer[:]) < 0
	out := e.outbound[peer]
	if out != nil {
		if localWins {
			e.mu.Unlock()
			return ReasonSuperseded, errors.New("simultaneous open: our own handshake wins")
		}
		delete(e.outbound, peer)
	}
	old := e.sessions[peer]
	if old != nil && old.initiator && localWins && e.now().Sub(old.established) < simultaneousOpenWindow {
		e.mu.Unlock()
		return ReasonSuperseded, errors.New("simultaneous open: our established session wins")
	}
	if old != nil {
		e.unregisterLocked(old)
	}
	s := e.newSession(pc, traffic, false, rs.suite, rs.addr, rs.netAddr)
	kp.sess = s
	stale := e.registerLocked(s, kp, checked)
	waiting := e.waitersLocked(peer)
	e.mu.Unlock()
	if stale {
		e.recheckLater(s)
	}

	if old != nil {
		old.closeWith(ErrSessionReplaced, false)
	}
	if out != nil {
		e.awaitPeer(out)
	}
	s.sendWith(kp, contentKeepalive, nil) // confirms the keys before any KCP packet
	s.start(true)
	for _, w := range waiting {
		w.finish(s, nil)
	}
	return ReasonNone, nil
}

// confirmInitiator completes the initiator handshake waiting on kp, if any,
// and reports whether kp's session is live (read loop).
func (e *Endpoint) confirmInitiator(kp *keypair) bool {
	st := kp.hs
	if st == nil {
		return true
	}
	kp.hs = nil
	st.confirm()
	entry, ok := e.index.get(kp.localIndex)
	return ok && entry.kp == kp
}

// establish registers and starts a new session whose keys were just
// confirmed, unless the peer got a session meanwhile (which is returned).
// It runs in the read loop.
func (e *Endpoint) establish(s *Session, kp *keypair, st *initiatorState) (*Session, error) {
	peer := s.peer.id
	e.mu.Lock()
	if e.outbound[peer] == st {
		delete(e.outbound, peer)
	}
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("endpoint closed: %w", core.ErrClosed)
	}
	if other := e.sessions[peer]; other != nil {
		e.mu.Unlock()
		return other, nil
	}
	stale := e.registerLocked(s, kp, st.checked.Load())
	waiting := e.waitersLocked(peer)
	e.mu.Unlock()
	if stale {
		e.recheckLater(s)
	}
	// KCP and the multiplexer start on their own goroutine, so the read
	// loop (which runs this) hands the session to Dial at once; the first
	// Send or OpenStream waits for them.
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		s.start(false)
	}()
	for _, w := range waiting {
		if w != st {
			w.finish(s, nil)
		}
	}
	return s, nil
}

// awaitPeer parks a handshake that lost a simultaneous open until the
// peer's own session is established (or the handshake times out).
func (e *Endpoint) awaitPeer(st *initiatorState) {
	e.mu.Lock()
	st.mu.Lock()
	if st.stage == stageDone {
		st.mu.Unlock()
		e.mu.Unlock()
		return
	}
	st.stage = stageWaitPeer
	kp, peer := st.kp, st.peer
	st.kp = nil
	st.mu.Unlock()
	if e.outbound[peer.id] == st {
		delete(e.outbound, peer.id)
	}
	s := e.sessions[peer.id]
	e.mu.Unlock()
	if kp != nil {
		e.index.removeKeypair(kp.localIndex, kp)
	}
	if s != nil {
		st.finish(s, nil)
	}
}

// waitersLocked returns the handshakes parked for a session with peer.
func (e *Endpoint) waitersLocked(peer core.NodeID) []*initiatorState {
	var out []*initiatorState
	for st := range e.initiators {
		st.mu.Lock()
		if st.stage == stageWaitPeer && st.peer != nil && st.peer.id == peer {
			out = append(out, st)
		}
		st.mu.Unlock()
	}
	return out
}

// registerLocked makes s the peer's session and installs its first keys.
// checked is the policy epoch in which its handshake checked the peer; it
// reports whether a Revalidate has run since, so that the caller has the
// session checked again (recheckLater) once e.mu is released.
func (e *Endpoint) registerLocked(s *Session, kp *keypair, checked uint64) (stale bool) {
	s.established = e.now()
	s.current.Store(kp)
	e.sessions[s.peer.id] = s
	e.byAddr[s.remoteAddrPort()] = s
	e.index.set(kp.localIndex, indexEntry{kp: kp})
	e.stats.sessionsOpened.Add(1)
	return e.policyEpoch.Load() != checked
}

// unregisterLocked forgets s (its keys are removed by its teardown).
func (e *Endpoint) unregisterLocked(s *Session) {
	if e.sessions[s.peer.id] == s {
		delete(e.sessions, s.peer.id)
	}
	for a, x := range e.byAddr {
		if x == s {
			delete(e.byAddr, a)
		}
	}
}

// forgetInitiator drops a finished handshake's bookkeeping and, when kp is
// given, the keys it made.
func (e *Endpoint) forgetInitiator(st *initiatorState, kp *keypair) {
	e.mu.Lock()
	delete(e.initiators, st)
	if e.dials[st.addr] == st {
		delete(e.dials, st.addr)
	}
	for id, o := range e.outbound {
		if o == st {
			delete(e.outbound, id)
		}
	}
	e.mu.Unlock()
	e.index.removeHandshake(st.index, st, nil)
	if kp != nil {
		e.index.removeKeypair(kp.localIndex, kp)
	}
}

// handleCookieReply passes a cookie to the handshake it answers (read loop).
func (e *Endpoint) handleCookieReply(b []byte) {
	c, err := parseCookieReply(b)
	if err != nil {
		e.stats.malformed.Add(1)
		return
	}
	if entry, ok := e.index.get(c.initIndex); ok && entry.init != nil {
		entry.init.onCookie(c)
		return
	}
	e.stats.unknownIndex.Add(1)
}

// handleReject passes a responder's refusal to its handshake (read loop).
func (e *Endpoint) handleReject(b []byte) {
	idx, head, sealed, err := parseRejectHeader(b)
	if err != nil {
		e.stats.malformed.Add(1)
		return
	}
	if entry, ok := e.index.get(idx); ok && entry.kp != nil && entry.kp.hs != nil {
		entry.kp.hs.onReject(head, sealed)
		return
	}
	e.stats.unknownIndex.Add(1)
}

// checkPeer applies the policy to a peer whose key possession was proven;
// a peer holding this endpoint's own key (a reflected handshake) is refused.
func (e *Endpoint) checkPeer(now time.Time, pc *peerChain) (Reason, error) {
	if reason, err := e.checkPeerChain(now, pc); err != nil {
		return reason, err
	}
	return e.policy.checkMember(e.ctx(), pc)
}

// checkPeerChain is the part of checkPeer that does no I/O: the reflection
// check and the chain's validity and trust.
func (e *Endpoint) checkPeerChain(now time.Time, pc *peerChain) (Reason, error) {
	if pc.id == e.local.id {
		return ReasonNotAllowed, errors.New("the peer is this node (reflected handshake)")
	}
	return e.policy.checkChain(now, pc)
}
