package transport

import "sync/atomic"

// Metrics is a snapshot of an endpoint's counters, for an exporter such as
// Prometheus to publish. Counters only grow; Sessions and Handshakes are
// gauges.
type Metrics struct {
	// Sessions is the number of established sessions now.
	Sessions int
	// Handshakes is the number of handshakes in progress now (both roles).
	Handshakes int
	// SessionsOpened and SessionsClosed count session lifetimes.
	SessionsOpened, SessionsClosed uint64
	// HandshakesCompleted counts handshakes that produced keys (rekeys included).
	HandshakesCompleted uint64
	// HandshakeFailures counts failed handshakes by reason.
	HandshakeFailures map[Reason]uint64
	// Rekeys counts completed rekeys.
	Rekeys uint64
	// PacketsIn, PacketsOut, BytesIn and BytesOut count datagrams on the socket.
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	// ReplayDrops counts records refused as replays or too old.
	ReplayDrops uint64
	// AuthFailures counts records that failed to authenticate.
	AuthFailures uint64
	// UnknownIndex counts records and fragments for no known session.
	UnknownIndex uint64
	// ExpiredKeyDrops counts records under keys past their reject time.
	ExpiredKeyDrops uint64
	// MalformedDrops counts datagrams that failed to parse.
	MalformedDrops uint64
	// CookieReplies counts cookie replies sent; BadCookies M1s with a wrong
	// or stale cookie (handled as M1s without one).
	CookieReplies, BadCookies uint64
	// RateLimited counts M1s refused work by the per-source rate limit
	// (answered with a cookie reply when they carried no valid cookie) or
	// by the concurrent handshake bound.
	RateLimited uint64
	// M1Replays counts M1s refused because their nonce was seen before.
	M1Replays uint64
	// AmplificationBlocks counts sends withheld by the 3x anti-amplification limit.
	AmplificationBlocks uint64
	// ReassemblyDrops counts partial handshake messages evicted or timed out.
	ReassemblyDrops uint64
	// QueueDrops counts packets dropped because a queue was full.
	QueueDrops uint64
}

// counters are the endpoint's live counters.
type counters struct {
	sessionsOpened, sessionsClosed atomic.Uint64
	handshakesCompleted, rekeys    atomic.Uint64
	failures                       [numReasons]atomic.Uint64
	packetsIn, packetsOut          atomic.Uint64
	bytesIn, bytesOut              atomic.Uint64
	replayDrops, authFailures      atomic.Uint64
	unknownIndex, expiredKeyDrops  atomic.Uint64
	malformed                      atomic.Uint64
	cookieReplies, badCookies      atomic.Uint64
	rateLimited, m1Replays         atomic.Uint64
	amplificationBlocks            atomic.Uint64
	reassemblyDrops, queueDrops    atomic.Uint64
}

// countFailure counts a failed handshake; a reason out of range (which only
// a bug could produce) is counted as internal rather than indexing past the array.
func (c *counters) countFailure(r Reason) {
	if r >= numReasons {
		r = ReasonInternal
	}
	c.failures[r].Add(1)
}

func (c *counters) snapshot() Metrics {
	m := Metrics{
		SessionsOpened: c.sessionsOpened.Load(), SessionsClosed: c.sessionsClosed.Load(),
		HandshakesCompleted: c.handshakesCompleted.Load(), Rekeys: c.rekeys.Load(),
		HandshakeFailures: make(map[Reason]uint64),
		PacketsIn:         c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		ReplayDrops: c.replayDrops.Load(), AuthFailures: c.authFailures.Load(),
		UnknownIndex: c.unknownIndex.Load(), ExpiredKeyDrops: c.expiredKeyDrops.Load(),
		MalformedDrops: c.malformed.Load(),
		CookieReplies:  c.cookieReplies.Load(), BadCookies: c.badCookies.Load(),
		RateLimited: c.rateLimited.Load(), M1Replays: c.m1Replays.Load(),
		AmplificationBlocks: c.amplificationBlocks.Load(),
		ReassemblyDrops:     c.reassemblyDrops.Load(), QueueDrops: c.queueDrops.Load(),
	}
	for r := range numReasons {
		if n := c.failures[r].Load(); n > 0 {
			m.HandshakeFailures[r] = n
		}
	}
	return m
}
