package transport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// responderState is one handshake in which this endpoint answers an M1.
type responderState struct {
	e       *Endpoint
	addr    netip.AddrPort
	netAddr net.Addr
	suite   core.Suite
	key     m1Key
	index   uint32
	m1      *m1
	m1Bytes []byte
	proven  bool // the M1 carried a valid cookie: the address receives
	useRef  bool // the initiator holds our chain: send a reference
	created time.Time

	mu       sync.Mutex
	bytesIn  int
	bytesOut int
	m2frags  [][]byte // nil until processM1 built M2
	keys     handshakeKeys
	th2      *transcript // M1, M2
	m3       *reassembly
	m3Busy   bool
	m3Fails  int
	finished bool
}

// handleM1 runs the cheap checks on a complete M1, in order of cost, and
// queues the expensive work (encapsulation, signing) only for an M1 that
// passes them all.
func (e *Endpoint) handleM1(msg []byte, fragIndex uint32, bytesIn int, from netip.AddrPort, fromAddr net.Addr) {
	now := e.now()
	m, err := parseM1(msg)
	if err != nil || m.initIndex != fragIndex {
		e.stats.malformed.Add(1)
		return
	}
	suite, ok := e.suites[m.suite]
	if m.version != protocolVersion || !ok {
		e.stats.failures[ReasonUnsupported].Add(1)
		return
	}
	if len(m.epk) != suite.KEM.PublicKeySize() {
		e.stats.malformed.Add(1)
		return
	}
	key := m1Key{from, m.initIndex}
	e.mu.Lock()
	rs := e.responders[key]
	nResponders := len(e.responders)
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return
	}
	if rs != nil {
		if !rs.onRetransmit(m, bytesIn) {
			e.stats.m1Replays.Add(1)
		}
		return
	}
	if e.replays.contains(now, m.nonce) {
		// Before any budget is spent: a recorded M1 replayed many times
		// must not drain its owner's rate limit.
		e.stats.m1Replays.Add(1)
		return
	}
	// A wrong or stale cookie proves nothing, but it does not condemn the
	// M1 either: whoever saw M1 can feed the initiator forged cookies, so
	// such an M1 is handled as one without a cookie.
	proven := false
	if len(m.cookie) > 0 {
		if proven = e.cookies.check(now, from, m.nonce, m.cookie); !proven {
			e.stats.badCookies.Add(1)
		}
	}
	useRef := m.hint == chainHint(e.local.fingerprint, m.nonce)
	underLoad := nResponders >= e.cfg.Limits.UnderLoadHandshakes || len(e.jobs) >= cap(e.jobs)/8
	if !e.admitM1(now, m, suite, proven, underLoad, useRef, bytesIn, from, fromAddr) {
		return
	}
	if nResponders >= e.cfg.Limits.MaxHandshakes {
		e.stats.rateLimited.Add(1)
		return
	}
	if !e.replays.add(now, m.nonce) {
		e.stats.m1Replays.Add(1)
		return
	}
	rs = &responderState{
		e: e, addr: from, netAddr: fromAddr, suite: suite, key: key, m1: m, m1Bytes: msg,
		proven: proven, useRef: useRef, created: now, bytesIn: bytesIn,
	}
	if rs.index, err = e.index.reserve(indexEntry{resp: rs}); err != nil {
		e.replays.remove(m.nonce)
		return
	}
	e.mu.Lock()
	e.responders[key] = rs
	e.mu.Unlock()
	if !e.enqueue(hsJob{resp: rs}) {
		rs.abandon()
		e.replays.remove(m.nonce)
	}
}

// admitM1 decides whether an M1 may start work, and answers with a cookie
// reply when it must prove its address first: when it is unproven and the
// endpoint is under load, or its M2 would exceed 3x the bytes received, or
// its source's rate limit is spent. The source of an unproven M1 may be
// spoofed, so its rate limit asks for a cookie rather than dropping: spoofed
// M1s cannot lock the real owner of an address out, whose proven M1s are
// counted in a budget of their own.
func (e *Endpoint) admitM1(now time.Time, m *m1, suite core.Suite, proven, underLoad, useRef bool, bytesIn int, from netip.AddrPort, fromAddr net.Addr) bool {
	if proven {
		if e.provenLimiter.allow(now, from.Addr()) {
			return true
		}
		e.stats.rateLimited.Add(1)
		return false
	}
	if !underLoad && e.m2WireSize(suite, useRef) <= amplificationFactor*bytesIn {
		if e.limiter.allow(now, from.Addr()) {
			return true
		}
		e.stats.rateLimited.Add(1)
	}
	reply := cookieReply{initIndex: m.initIndex, nonce: m.nonce, cookie: e.cookies.make(now, from, m.nonce)}
	if e.send(reply.marshal(), fromAddr) == nil {
		e.stats.cookieReplies.Add(1)
	}
	return false
}

// m2WireSize predicts the bytes M2 will take on the wire, fragment headers
// included, without building it.
func (e *Endpoint) m2WireSize(suite core.Suite, useRef bool) int {
	idLen := 1 + fingerprintSize
	if !useRef {
		idLen = 2
		for _, der := range e.local.chain {
			idLen += 2 + len(der)
		}
	}
	total := 4 + 4 + nonceSize + 2 + suite.KEM.CiphertextSize() +
		payloadSize(idLen, e.local.signer.Scheme().SignatureSize()) + aeadOverhead(suite)
	return total + fragmentCount(total)*fragmentHeaderSize
}

// onRetransmit answers a repeated M1 (its M2 was lost) by resending M2,
// within the anti-amplification budget, and reports whether the M1 was a
// retransmission of a handshake in progress. Another M1 under the same
// index and address, or one for a handshake that has finished, is refused.
func (rs *responderState) onRetransmit(m *m1, bytesIn int) bool {
	if m.nonce != rs.m1.nonce {
		return false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.finished {
		return false
	}
	rs.bytesIn += bytesIn
	if rs.m2frags != nil {
		rs.sendM2Locked()
	}
	return true
}

// sendM2Locked sends M2 if the budget allows.
func (rs *responderState) sendM2Locked() {
	size := 0
	for _, d := range rs.m2frags {
		size += len(d)
	}
	if !rs.proven && rs.bytesOut+size > amplificationFactor*rs.bytesIn {
		rs.e.stats.amplificationBlocks.Add(1)
		return
	}
	rs.bytesOut += rs.e.sendAll(rs.m2frags, rs.netAddr)
}

// processM1 encapsulates to the initiator's key, signs the transcript and
// sends M2 (worker).
func (rs *responderState) processM1() {
	e, m := rs.e, rs.m1
	ct, ss, err := rs.suite.KEM.Encapsulate(e.rand, m.epk)
	if err != nil {
		rs.failf(ReasonMalformed, "encapsulate: %w", err)
		return
	}
	head := m2Clear{respIndex: rs.index, initIndex: m.initIndex, ct: ct}
	if err := e.readRand(head.nonce[:]); err != nil {
		rs.failf(ReasonInternal, "nonce: %w", err)
		return
	}
	clear := head.marshal()
	th := newTranscript().add(rs.m1Bytes)
	keys := deriveHandshakeKeys(rs.suite, ss, th.clone().add(clear).sum())
	idBytes := e.local.responderID
	if rs.useRef {
		id := identity{kind: certReference, reference: e.local.fingerprint}
		idBytes = id.marshal(false)
	}
	tSig := th.clone().add(clear).add(idBytes)
	sig, err := e.local.signer.Sign(tSig.sum(), contextResponder)
	if err != nil {
		rs.failf(ReasonInternal, "sign: %w", err)
		return
	}
	fin := finishedMAC(keys.respFinished, tSig.add(sig).sum())
	aead, err := rs.suite.AEAD.New(keys.respKey)
	if err != nil {
		rs.failf(ReasonInternal, "aead: %w", err)
		return
	}
	m2 := aead.Seal(clear, keys.respIV, marshalPayload(idBytes, sig, fin), clear)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.finished {
		return
	}
	rs.keys = keys
	rs.m2frags = fragmentMessage(typeM2, m.initIndex, m2)
	rs.sendM2Locked()
	rs.th2 = th.add(m2) // after sending: M3 cannot come before M2 left
}

// addM3Fragment reassembles M3 (read loop).
func (rs *responderState) addM3Fragment(f fragment, n int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.finished || rs.m3Busy || rs.m2frags == nil {
		return
	}
	if rs.m3 == nil || rs.m3.total != f.total {
		rs.m3 = newReassembly(f, rs.e.now())
	}
	msg, err := rs.m3.add(f, n)
	if err != nil {
		rs.m3 = nil
		return
	}
	if msg == nil {
		return
	}
	rs.m3 = nil
	rs.m3Busy = true
	if !rs.e.enqueue(hsJob{resp: rs, msg: msg}) {
		rs.m3Busy = false
	}
}

// processM3 authenticates the initiator and establishes the session or
// rekeys it (worker).
func (rs *responderState) processM3(msg []byte) {
	e := rs.e
	defer func() {
		rs.mu.Lock()
		rs.m3Busy = false
		rs.mu.Unlock()
	}()
	head, clear, sealed, err := parseM3(msg)
	if err != nil || head.respIndex != rs.index || head.initIndex != rs.m1.initIndex {
		e.stats.malformed.Add(1)
		return
	}
	aead, err := rs.suite.AEAD.New(rs.keys.initKey)
	if err != nil {
		rs.failf(ReasonInternal, "aead: %w", err)
		return
	}
	pt, err := aead.Open(nil, rs.keys.initIV, sealed, clear)
	if err != nil {
		// Tampered or spliced: the genuine M3 may still come; give up after a few.
		rs.mu.Lock()
		rs.m3Fails++
		fails := rs.m3Fails
		rs.mu.Unlock()
		e.stats.authFailures.Add(1)
		if fails >= m2FailureLimit {
			rs.failf(ReasonDecrypt, "m3 failed to authenticate %d times", fails)
		}
		return
	}
	p, err := parsePayload(pt, true)
	if err != nil {
		rs.refuse(ReasonMalformed, err)
		return
	}
	pc, fresh, reason, err := e.resolvePeerChain(p.id)
	if err != nil {
		rs.refuse(reason, err)
		return
	}
	// The traffic keys depend on M3's bytes only: they are derived on
	// another goroutine during the verification, and used only if it passes.
	now := e.now()
	derived := make(chan newKeys, 1)
	go func() { derived <- rs.trafficKeys(msg, now) }()
	checked := e.policyEpoch.Load()
	reason, verr := rs.verifyInitiator(now, clear, p, pc, fresh)
	k := <-derived // always collected: the goroutine never outlives the worker
	switch {
	case verr != nil:
		rs.refuse(reason, verr)
		return
	case k.err != nil:
		rs.failf(ReasonInternal, "%w", k.err)
		return
	}
	if reason, err := e.acceptInbound(rs, pc, p.id, k.kp, k.traffic, checked); err != nil {
		rs.refuse(reason, err)
		return
	}
	rs.mu.Lock()
	rs.finished = true
	rs.mu.Unlock()
	e.chains.put(pc, netip.AddrPort{})
	e.stats.handshakesCompleted.Add(1)
	e.removeResponder(rs)
}

// newKeys are the traffic keys an M3 makes and their keypair.
type newKeys struct {
	traffic trafficKeys
	kp      *keypair
	err     error
}

// trafficKeys derives the keys of the session (or rekey) that M3 makes.
func (rs *responderState) trafficKeys(m3 []byte, now time.Time) newKeys {
	traffic := deriveTrafficKeys(rs.suite, rs.keys.secret, rs.th2.clone().add(m3).sum(), false)
	kp, err := newKeypair(rs.suite.AEAD, traffic, rs.index, rs.m1.initIndex, false, now, rs.e.cfg.Limits.RejectAfterMessages)
	if err != nil {
		return newKeys{err: err}
	}
	kp.m3Sum = sha256.Sum256(m3)
	return newKeys{traffic: traffic, kp: kp}
}

// verifyInitiator checks M3's signature and Finished MAC and the policy on
// the initiator's chain. A chain new to us has its signatures checked
// against the trust store while the transcript signature is verified on
// another goroutine; a chain verified before costs little to check again
// (the store remembers its signatures), so it is checked in line, after
// the signature. Either way the member tiers (which may do I/O) come last,
// and a failure is reported in the order signature, Finished, policy.
func (rs *responderState) verifyInitiator(now time.Time, clear []byte, p *handshakePayload, pc *peerChain, fresh bool) (Reason, error) {
	e := rs.e
	tSig := rs.th2.clone().add(clear).add(p.idBytes)
	var (
		sigOK  bool
		reason Reason
		cerr   error
	)
	if fresh {
		signed := make(chan bool, 1)
		go func() { signed <- pc.leaf().PublicKey.Verify(tSig.sum(), contextInitiator, p.sig) }()
		reason, cerr = e.checkPeerChain(now, pc)
		sigOK = <-signed // always collected: the goroutine never outlives the worker
	} else if sigOK = pc.leaf().PublicKey.Verify(tSig.sum(), contextInitiator, p.sig); sigOK {
		reason, cerr = e.checkPeerChain(now, pc)
	}
	switch {
	case !sigOK:
		return ReasonBadSignature, fmt.Errorf("initiator signature does not verify under %s's key", pc.leaf().Subject)
	case !hmac.Equal(p.finished[:], finishedMAC(rs.keys.initFinished, tSig.add(p.sig).sum())):
		return ReasonBadFinished, errors.New("initiator finished MAC mismatch")
	case cerr != nil:
		return reason, cerr
	}
	return e.policy.checkMember(e.ctx(), pc)
}

// answerDuplicateM3 resends the keepalive that confirms keys to an initiator
// that retransmitted its M3 (the first keepalive was lost). Only an M3
// byte-identical to the one that made the keys is answered.
func (e *Endpoint) answerDuplicateM3(kp *keypair, f fragment, n int, to net.Addr) {
	if kp.initiator || kp.sess == nil || e.now().Sub(kp.created) > m3AckWindow {
		return
	}
	msg, done := kp.sess.reassembleDuplicateM3(f, n)
	if !done || sha256.Sum256(msg) != kp.m3Sum {
		return
	}
	kp.sess.sendWith(kp, contentKeepalive, nil)
}

// refuse ends the handshake and tells the initiator why, under the
// handshake keys (so only the initiator can read or forge the refusal).
func (rs *responderState) refuse(reason Reason, err error) {
	rs.fail(refusal(reason, err))
	rs.sendReject(reason)
}

func (rs *responderState) sendReject(reason Reason) {
	aead, err := rs.suite.AEAD.New(rs.keys.respKey)
	if err != nil {
		return
	}
	head := make([]byte, rejectHeaderSize, rejectHeaderSize+1+aead.Overhead())
	head[0] = byte(typeReject)
	binary.BigEndian.PutUint32(head[4:8], rs.m1.initIndex)
	nonce := sealNonce(nil, rs.keys.respIV, 1)
	pkt := aead.Seal(head, nonce, []byte{byte(reason)}, head)
	rs.e.send(pkt, rs.netAddr)
}

func (rs *responderState) failf(reason Reason, format string, args ...any) {
	rs.fail(&HandshakeError{Reason: reason, Err: fmt.Errorf(format, args...)})
}

// fail records a failed handshake and forgets its state.
func (rs *responderState) fail(herr *HandshakeError) {
	rs.mu.Lock()
	if rs.finished {
		rs.mu.Unlock()
		return
	}
	rs.finished = true
	rs.mu.Unlock()
	herr.Peer = rs.addr.String()
	rs.e.stats.countFailure(herr.Reason)
	level := slog.LevelInfo
	if herr.Reason == ReasonTimeout {
		level = slog.LevelDebug // spoofed M1s time out by the thousand
	}
	rs.e.cfg.Logger.Log(rs.e.ctx(), level, "transport: handshake refused", "role", "responder", "peer", herr.Peer, "reason", herr.Reason.String(), "err", herr.Err)
	rs.e.removeResponder(rs)
}

// abandon forgets a responder whose work never started.
func (rs *responderState) abandon() {
	rs.mu.Lock()
	rs.finished = true
	rs.mu.Unlock()
	rs.e.removeResponder(rs)
}

// tick times the handshake out.
func (rs *responderState) tick(now time.Time) {
	if now.Sub(rs.created) >= rs.e.cfg.HandshakeTimeout {
		rs.fail(&HandshakeError{Reason: ReasonTimeout, Err: ErrHandshakeTimeout, kind: ErrHandshakeTimeout})
	}
}

func (e *Endpoint) removeResponder(rs *responderState) {
	e.mu.Lock()
	if e.responders[rs.key] == rs {
		delete(e.responders, rs.key)
	}
	e.mu.Unlock()
	e.index.removeHandshake(rs.index, nil, rs)
}
