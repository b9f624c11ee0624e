package transport

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// initStage is where an initiator's handshake stands.
type initStage uint8

const (
	stageWaitM2      initStage = iota // M1 sent (retransmitted until M2)
	stageWaitConfirm                  // M3 sent (retransmitted until a record arrives)
	stageWaitPeer                     // lost a simultaneous open: waiting for the peer's session
	stageDone
)

// m1Variant is one encoding of our M1 (without a cookie, or with one) and
// the transcript after it; the responder may answer any variant we sent.
type m1Variant struct {
	frags [][]byte
	th    *transcript
}

// initiatorState is one handshake that this endpoint started, for a new
// session or to rekey one.
type initiatorState struct {
	e        *Endpoint
	addr     netip.AddrPort
	netAddr  net.Addr
	suite    core.Suite
	index    uint32
	nonce    [nonceSize]byte
	kem      core.KEMPrivateKey
	template m1
	hinted   *peerChain // the responder chain our hint names, if any
	rekey    *Session   // the session being rekeyed; nil for a new one
	started  time.Time

	mu       sync.Mutex
	stage    initStage
	variants []m1Variant
	// cookieFresh: the template holds a cookie not yet sent (the next
	// flight encodes it); cookieHold: no cookie triggers an immediate
	// flight before this time, so forged cookie replies cannot make us
	// send a flight per 72-byte forgery.
	cookieFresh bool
	cookieHold  time.Time
	m2          *reassembly
	m2Busy      bool
	m2Fails     int
	lastErr     error
	flight      [][]byte
	rto         time.Duration
	nextSend    time.Time
	keys        handshakeKeys
	peer        *peerChain
	kp          *keypair
	pending     *Session      // the new session, started once the keys are confirmed
	checked     atomic.Uint64 // the policy epoch in which the responder was checked

	done   chan struct{}
	result *Session
	err    error
}

// newInitiator prepares a handshake to addr: a fresh KEM key, nonce and index.
func (e *Endpoint) newInitiator(addr netip.AddrPort, netAddr net.Addr, rekey *Session) (*initiatorState, error) {
	st := &initiatorState{
		e: e, addr: addr, netAddr: netAddr, suite: e.cfg.Suite, rekey: rekey,
		started: e.now(), rto: e.cfg.RetransmitInitial, done: make(chan struct{}),
	}
	if rekey != nil {
		st.suite, st.hinted = rekey.suite, rekey.peer
	} else {
		st.hinted = e.chains.forAddr(addr)
	}
	var err error
	if st.kem, err = st.suite.KEM.GenerateKey(e.rand); err != nil {
		return nil, fmt.Errorf("transport: handshake key: %w", err)
	}
	if err := e.readRand(st.nonce[:]); err != nil {
		return nil, fmt.Errorf("transport: handshake nonce: %w", err)
	}
	if st.index, err = e.index.reserve(indexEntry{init: st}); err != nil {
		return nil, err
	}
	st.template = m1{version: protocolVersion, suite: st.suite.ID(), initIndex: st.index, nonce: st.nonce, epk: st.kem.PublicKey()}
	if st.hinted != nil {
		st.template.hint = chainHint(st.hinted.fingerprint, st.nonce)
	}
	st.addVariantLocked()
	return st, nil
}

// addVariantLocked encodes the template as the current flight. It keeps the
// cookie-less variant and the two latest cookie variants sent.
func (st *initiatorState) addVariantLocked() {
	b := st.template.marshal()
	st.variants = append(st.variants, m1Variant{frags: fragmentMessage(typeM1, st.index, b), th: newTranscript().add(b)})
	if len(st.variants) > 3 {
		st.variants = slices.Delete(st.variants, 1, 2)
	}
	st.flight = st.variants[len(st.variants)-1].frags
}

// start sends the first flight.
func (st *initiatorState) start() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sendFlightLocked(st.e.now())
}

func (st *initiatorState) sendFlightLocked(now time.Time) {
	if st.cookieFresh && st.stage == stageWaitM2 {
		st.cookieFresh = false
		st.addVariantLocked()
	}
	st.e.sendAll(st.flight, st.netAddr)
	st.nextSend = now.Add(st.e.jitter(st.rto))
}

// onCookie resends M1 with the responder's cookie (read loop). A reply
// that does not echo our nonce is a forgery and is ignored. One that does
// may still be forged by whoever saw M1, so a cookie triggers at most one
// immediate flight per retransmission timeout; a later one goes out with
// the next scheduled flight. Only flights actually sent become variants, so
// forgeries cannot crowd out the variant the responder answers.
func (st *initiatorState) onCookie(c *cookieReply) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stage != stageWaitM2 || c.nonce != st.nonce || bytes.Equal(st.template.cookie, c.cookie[:]) {
		return
	}
	st.template.cookie = append([]byte(nil), c.cookie[:]...)
	st.cookieFresh = true
	if now := st.e.now(); !now.Before(st.cookieHold) {
		st.cookieHold = now.Add(st.rto)
		st.sendFlightLocked(now)
	}
}

// addM2Fragment reassembles M2 (read loop).
func (st *initiatorState) addM2Fragment(f fragment, n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stage != stageWaitM2 || st.m2Busy {
		return
	}
	if st.m2 == nil || st.m2.total != f.total {
		st.m2 = newReassembly(f, st.e.now())
	}
	msg, err := st.m2.add(f, n)
	if err != nil {
		st.m2 = nil
		return
	}
	if msg == nil {
		return
	}
	st.m2 = nil
	st.m2Busy = true
	if !st.e.enqueue(hsJob{init: st, msg: msg}) {
		st.m2Busy = false
	}
}

// processM2 authenticates the responder, checks the policy and answers with
// M3 (worker). M3 is signed while the responder is being verified, on
// another core: the two are independent, and M3 leaves only once the
// responder passed every check.
func (st *initiatorState) processM2(msg []byte) {
	e := st.e
	defer func() {
		st.mu.Lock()
		st.m2Busy = false
		st.mu.Unlock()
	}()
	head, clear, sealed, err := parseM2(msg)
	if err != nil || head.initIndex != st.index || len(head.ct) != st.suite.KEM.CiphertextSize() {
		st.softFail(ReasonMalformed, fmt.Errorf("m2: bad head: %w", core.ErrInvalidInput))
		return
	}
	ss, err := st.kem.Decapsulate(head.ct)
	if err != nil {
		st.softFail(ReasonMalformed, err)
		return
	}
	st.mu.Lock()
	variants := slices.Clone(st.variants)
	st.mu.Unlock()
	var (
		keys handshakeKeys
		v    m1Variant
		pt   []byte
	)
	// Newest first: after a cookie reply the responder answers the M1 that
	// carried the cookie, which is the latest one sent.
	for i := len(variants) - 1; i >= 0; i-- {
		v = variants[i]
		keys = deriveHandshakeKeys(st.suite, ss, v.th.clone().add(clear).sum())
		aead, err := st.suite.AEAD.New(keys.respKey)
		if err != nil {
			st.fail(&HandshakeError{Reason: ReasonInternal, Err: err})
			return
		}
		if pt, err = aead.Open(nil, keys.respIV, sealed, clear); err == nil {
			break
		}
	}
	if pt == nil {
		e.stats.authFailures.Add(1)
		st.softFail(ReasonDecrypt, fmt.Errorf("m2 payload failed to authenticate (tampered, spliced or downgraded): %w", core.ErrVerification))
		return
	}
	p, err := parsePayload(pt, false)
	if err != nil {
		st.fail(refusal(ReasonMalformed, err))
		return
	}
	// Verify the responder on another goroutine (the shorter task, so the
	// time it takes to be scheduled hides behind the signature) while
	// signing here.
	now := e.now()
	st.checked.Store(e.policyEpoch.Load())
	verified := make(chan verdict, 1)
	go func() {
		pc, reason, err := st.verifyResponder(now, v, clear, p, keys)
		verified <- verdict{pc, reason, err}
	}()
	m3 := st.buildM3(msg, head, keys, v)
	vr := <-verified // always collected: the goroutine never outlives the worker
	switch {
	case vr.err != nil:
		st.fail(refusal(vr.reason, vr.err))
	case m3.err != nil:
		st.fail(&HandshakeError{Reason: ReasonInternal, Err: m3.err})
	default:
		st.sendM3(m3, head, keys, vr.peer, now)
	}
}

// verdict is the outcome of a check run on another goroutine.
type verdict struct {
	peer   *peerChain
	reason Reason
	err    error
}

// verifyResponder resolves the responder's chain (named by reference, or
// sent in full) and checks M2's signature, its Finished MAC and the policy.
func (st *initiatorState) verifyResponder(now time.Time, v m1Variant, clear []byte, p *handshakePayload, keys handshakeKeys) (*peerChain, Reason, error) {
	var pc *peerChain
	if p.id.kind == certReference {
		if st.hinted == nil || p.id.reference != st.hinted.fingerprint {
			return nil, ReasonUnknownReference, errors.New("responder named a chain we did not hint at")
		}
		pc = st.hinted
	} else {
		var err error
		if pc, _, err = st.e.chainFrom(p.id.chain); err != nil {
			return nil, ReasonBadCertificate, err
		}
	}
	reason, err := st.checkResponder(now, v, clear, p, pc, keys)
	return pc, reason, err
}

// checkResponder checks M2's signature and Finished MAC and the policy on
// the responder's chain.
func (st *initiatorState) checkResponder(now time.Time, v m1Variant, clear []byte, p *handshakePayload, pc *peerChain, keys handshakeKeys) (Reason, error) {
	tSig := v.th.clone().add(clear).add(p.idBytes)
	if !pc.leaf().PublicKey.Verify(tSig.sum(), contextResponder, p.sig) {
		return ReasonBadSignature, fmt.Errorf("responder signature does not verify under %s's key", pc.leaf().Subject)
	}
	if !hmac.Equal(p.finished[:], finishedMAC(keys.respFinished, tSig.add(p.sig).sum())) {
		return ReasonBadFinished, errors.New("responder finished MAC mismatch")
	}
	if reason, err := st.e.checkPeer(now, pc); err != nil {
		return reason, err
	}
	if st.rekey != nil && pc.id != st.rekey.peer.id {
		return ReasonNotAllowed, fmt.Errorf("rekey answered by node %s, not the session's peer %s", pc.id.Short(), st.rekey.peer.id.Short())
	}
	return ReasonNone, nil
}

// draftM3 is a signed and sealed M3 with the traffic keys it makes, not yet
// sent.
type draftM3 struct {
	m3      []byte
	traffic trafficKeys
	err     error
}

// buildM3 signs the transcript, seals M3 and derives the traffic keys. It
// reads only immutable handshake state, so it may run next to
// verifyResponder.
func (st *initiatorState) buildM3(m2 []byte, head *m2Clear, keys handshakeKeys, v m1Variant) draftM3 {
	e := st.e
	idBytes := e.local.initiatorID
	if st.rekey != nil {
		id := identity{intent: intentRekey, sessionID: st.rekey.id, kind: certReference, reference: e.local.fingerprint}
		idBytes = id.marshal(true)
	}
	m3c := (&m3Clear{respIndex: head.respIndex, initIndex: st.index}).marshal()
	th2 := v.th.clone().add(m2)
	tSig := th2.clone().add(m3c).add(idBytes)
	sig, err := e.local.signer.Sign(tSig.sum(), contextInitiator)
	if err != nil {
		return draftM3{err: fmt.Errorf("sign: %w", err)}
	}
	fin := finishedMAC(keys.initFinished, tSig.add(sig).sum())
	aead, err := st.suite.AEAD.New(keys.initKey)
	if err != nil {
		return draftM3{err: err}
	}
	m3 := aead.Seal(m3c, keys.initIV, marshalPayload(idBytes, sig, fin), m3c)
	return draftM3{m3: m3, traffic: deriveTrafficKeys(st.suite, keys.secret, th2.add(m3).sum(), true)}
}

// sendM3 installs the (unconfirmed) keys of a verified handshake and sends M3.
func (st *initiatorState) sendM3(d draftM3, head *m2Clear, keys handshakeKeys, pc *peerChain, now time.Time) {
	e := st.e
	kp, err := newKeypair(st.suite.AEAD, d.traffic, st.index, head.respIndex, true, now, e.cfg.Limits.RejectAfterMessages)
	if err != nil {
		st.fail(&HandshakeError{Reason: ReasonInternal, Err: err})
		return
	}
	kp.hs = st
	if st.rekey != nil {
		kp.sess = st.rekey
	} else {
		kp.sess = e.newSession(pc, d.traffic, true, st.suite, st.addr, st.netAddr)
	}
	if existing := e.beginOutbound(st, pc); existing != nil {
		st.finish(existing, nil) // dialing a peer that already has a session returns it
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stage != stageWaitM2 {
		return
	}
	st.stage, st.keys, st.peer, st.kp, st.pending = stageWaitConfirm, keys, pc, kp, kp.sess
	st.flight = fragmentMessage(typeM3, head.respIndex, d.m3)
	st.rto = e.cfg.RetransmitInitial
	e.index.set(st.index, indexEntry{kp: kp})
	st.sendFlightLocked(now)
}

// softFail records a failure that an attacker could cause without the keys
// (a forged or damaged M2): the genuine M2 may still come, so the handshake
// goes on, up to m2FailureLimit such failures.
func (st *initiatorState) softFail(reason Reason, err error) {
	st.mu.Lock()
	st.m2Fails++
	st.lastErr = fmt.Errorf("%s: %w", reason, err)
	fails := st.m2Fails
	st.mu.Unlock()
	if fails >= m2FailureLimit {
		st.fail(refusal(reason, err))
	}
}

// onReject handles the responder's authenticated refusal (read loop).
func (st *initiatorState) onReject(head, sealed []byte) {
	st.mu.Lock()
	stage, keys := st.stage, st.keys
	st.mu.Unlock()
	if stage != stageWaitConfirm {
		return
	}
	aead, err := st.suite.AEAD.New(keys.respKey)
	if err != nil {
		return
	}
	pt, err := aead.Open(nil, sealNonce(nil, keys.respIV, 1), sealed, head)
	if err != nil || len(pt) != 1 {
		st.e.stats.authFailures.Add(1)
		return
	}
	reason := Reason(pt[0])
	if reason == ReasonNone || reason >= numReasons {
		// A code this version does not know (or none): the peer still
		// refused; report it as a malformed refusal rather than index
		// anything with an attacker's byte.
		reason = ReasonMalformed
	}
	if reason == ReasonSuperseded && st.rekey == nil {
		st.e.awaitPeer(st)
		return
	}
	herr := &HandshakeError{Reason: reason, Err: fmt.Errorf("%w: %s", ErrRefusedByPeer, reason), kind: ErrRefusedByPeer}
	st.fail(herr)
}

// confirm completes the handshake once a record under the new keys arrived
// (read loop): the responder holds the keys.
func (st *initiatorState) confirm() {
	st.mu.Lock()
	if st.stage != stageWaitConfirm {
		st.mu.Unlock()
		return
	}
	kp, pc, pending := st.kp, st.peer, st.pending
	st.mu.Unlock()
	e := st.e
	e.chains.put(pc, st.addr)
	e.stats.handshakesCompleted.Add(1)
	if st.rekey != nil {
		st.rekey.rotate(kp)
		e.stats.rekeys.Add(1)
		st.finish(st.rekey, kp)
		return
	}
	s, err := e.establish(pending, kp, st)
	switch {
	case err != nil:
		st.fail(&HandshakeError{Reason: ReasonInternal, Err: err})
	case s == pending:
		st.finish(s, kp)
	default:
		st.finish(s, nil) // the peer's own session won the race
	}
}

// tick retransmits the current flight or times the handshake out.
func (st *initiatorState) tick(now time.Time) {
	st.mu.Lock()
	if st.stage == stageDone {
		st.mu.Unlock()
		return
	}
	if now.Sub(st.started) >= st.e.cfg.HandshakeTimeout {
		last := st.lastErr
		st.mu.Unlock()
		err := fmt.Errorf("%w after %v", ErrHandshakeTimeout, st.e.cfg.HandshakeTimeout)
		if last != nil {
			err = fmt.Errorf("%w (last failure: %v)", err, last)
		}
		st.fail(&HandshakeError{Reason: ReasonTimeout, Err: err, kind: ErrHandshakeTimeout})
		return
	}
	if (st.stage == stageWaitM2 || st.stage == stageWaitConfirm) && !now.Before(st.nextSend) {
		st.rto = min(2*st.rto, retransmitMax)
		st.sendFlightLocked(now)
	}
	st.mu.Unlock()
}

// fail ends the handshake with herr.
func (st *initiatorState) fail(herr *HandshakeError) {
	herr.Peer = st.addr.String()
	st.mu.Lock()
	if st.stage == stageDone {
		st.mu.Unlock()
		return
	}
	st.stage, st.err = stageDone, herr
	kp := st.kp
	st.mu.Unlock()
	e := st.e
	e.stats.countFailure(herr.Reason)
	e.cfg.Logger.Info("transport: handshake failed", "role", "initiator", "peer", herr.Peer, "reason", herr.Reason.String(), "err", herr.Err)
	e.forgetInitiator(st, kp)
	if st.rekey != nil {
		st.rekey.rekeyFailed(st, herr)
	}
	close(st.done)
}

// finish ends the handshake with a session; keep is the keypair that stays
// installed (nil when the handshake's own keys are discarded).
func (st *initiatorState) finish(s *Session, keep *keypair) {
	st.mu.Lock()
	if st.stage == stageDone {
		st.mu.Unlock()
		return
	}
	st.stage, st.result = stageDone, s
	kp := st.kp
	st.mu.Unlock()
	if kp == keep {
		kp = nil
	}
	st.e.forgetInitiator(st, kp)
	if st.rekey != nil {
		st.rekey.rekeyFinished(st)
	}
	close(st.done)
}
