package transport

import (
	"crypto/subtle"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// pathTokenSize is the size of a path challenge's random token.
const pathTokenSize = 8

// remoteAddr is where a session sends. The address a handshake was made
// with is proven (the peer answered a message sent there). An address the
// peer roamed to is not: a record's source address is not authenticated,
// so the peer itself could be pointing the session at a victim. Until a
// path challenge sent there is answered, the session sends it at most 3x
// the bytes of authenticated records received from it (RFC 9000 §8.2, §9.3).
type remoteAddr struct {
	ap        netip.AddrPort
	addr      net.Addr
	token     [pathTokenSize]byte
	validated atomic.Bool
	recv      atomic.Int64 // bytes of authenticated records received from ap
	sent      atomic.Int64 // bytes sent to ap
}

// provenPath is the address a handshake proved.
func provenPath(ap netip.AddrPort, addr net.Addr) *remoteAddr {
	ra := &remoteAddr{ap: ap, addr: addr}
	ra.validated.Store(true)
	return ra
}

// maysend reports whether n more bytes may go to the address, and counts
// them if so.
func (ra *remoteAddr) maysend(n int) bool {
	if ra.validated.Load() {
		return true
	}
	if ra.sent.Add(int64(n)) > amplificationFactor*ra.recv.Load() {
		ra.sent.Add(-int64(n))
		return false
	}
	return true
}

// arrived accounts an authenticated record of n bytes from `from` (read
// loop): it credits an unvalidated address's budget, and the newest record
// of its keys coming from a new address moves the session there.
func (s *Session) arrived(from netip.AddrPort, fromAddr net.Addr, n int, newest bool) {
	ra := s.remote.Load()
	if ra.ap == from {
		if !ra.validated.Load() {
			ra.recv.Add(int64(n))
		}
		return
	}
	if newest {
		s.roam(from, fromAddr, n)
	}
}

// roam moves the session to from after an authenticated record, the newest
// of its keypair, came from there (read loop), and challenges the new path.
// Only authenticated packets move a session; a record that is genuine but
// late (lost, or held back by an attacker) moves nothing.
//
// The new address becomes where the session sends, but not an address
// that Dial resolves to this session: a record's source is not
// authenticated, so a peer could claim another node's address with it and
// capture that node's Dials. Dial of the new address runs a handshake, which
// proves who answers there, and returns this session if it is this peer.
func (s *Session) roam(from netip.AddrPort, fromAddr net.Addr, n int) {
	ra := &remoteAddr{ap: from, addr: fromAddr}
	if err := s.e.readRand(ra.token[:]); err != nil {
		return // without a challenge the path could never be validated: stay
	}
	ra.recv.Store(int64(n))
	cur := s.remote.Swap(ra)
	e := s.e
	e.mu.Lock()
	if e.byAddr[cur.ap] == s {
		delete(e.byAddr, cur.ap)
	}
	e.mu.Unlock()
	now := e.now()
	s.mu.Lock()
	s.challengeRTO = e.cfg.RetransmitInitial
	s.challengeNext = now.Add(e.jitter(s.challengeRTO))
	s.mu.Unlock()
	s.sendRecord(contentPathChallenge, ra.token[:])
}

// challengeTick resends the path challenge of an unvalidated address, with
// the handshake's backoff (timer loop).
func (s *Session) challengeTick(now time.Time) {
	ra := s.remote.Load()
	if ra.validated.Load() {
		return
	}
	s.mu.Lock()
	due := !now.Before(s.challengeNext)
	if due {
		s.challengeRTO = min(2*s.challengeRTO, retransmitMax)
		s.challengeNext = now.Add(s.e.jitter(s.challengeRTO))
	}
	s.mu.Unlock()
	if due {
		s.sendRecord(contentPathChallenge, ra.token[:])
	}
}

// onPathChallenge echoes a challenge's token (read loop).
func (s *Session) onPathChallenge(token []byte) {
	if len(token) == pathTokenSize {
		s.sendRecord(contentPathResponse, token)
	}
}

// onPathResponse validates the current address if the token is its
// challenge's (read loop). The response may come from any address: it
// proves the peer received what was sent to the challenged one.
func (s *Session) onPathResponse(token []byte) {
	ra := s.remote.Load()
	if !ra.validated.Load() && subtle.ConstantTimeCompare(token, ra.token[:]) == 1 {
		ra.validated.Store(true)
	}
}
