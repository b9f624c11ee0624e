package transport

import "time"

// Protocol constants: sizes fixed by the wire format (PROTOCOL.md). Changing
// any of them changes the protocol.
const (
	// protocolVersion is the version byte of M1.
	protocolVersion = 1

	// maxDatagram is the largest handshake datagram we send (fragments,
	// cookie replies): 1200 bytes fits every IPv6 path (RFC 8200 minimum MTU
	// 1280 minus IPv6 and UDP headers, with room for tunnels).
	maxDatagram = 1200

	// maxRecordDatagram is the largest record datagram we accept: an Ethernet
	// MTU minus IPv4 and UDP headers. Larger datagrams are dropped unread.
	maxRecordDatagram = 1472

	// readBufferSize is the socket read buffer: larger than any legal datagram
	// so that an oversized one is seen as oversized rather than truncated.
	readBufferSize = 2048

	// nonceSize is the size of the handshake nonces Ni and Nr.
	nonceSize = 32

	// hintSize is the size of M1's responder-chain hint.
	hintSize = 32

	// cookieSize is the size of a cookie.
	cookieSize = 16

	// finishedSize is the size of a Finished MAC (HMAC-SHA-256).
	finishedSize = 32

	// fingerprintSize is the size of a chain fingerprint (SHA-256).
	fingerprintSize = 32

	// sessionIDSize is the size of a session identifier.
	sessionIDSize = 8

	// maxChainCerts is the most certificates a chain may hold.
	maxChainCerts = 8

	// maxM1Size bounds a reassembled M1; maxM1Fragments follows from it.
	maxM1Size      = 4 * fragmentPayload
	maxM1Fragments = 4

	// maxHandshakeMessage bounds a reassembled M2 or M3 (a chain of three
	// ML-DSA-87 certificates and a signature fit with room to spare).
	maxHandshakeMessage = 48 << 10
	// maxHandshakeFragments follows from maxHandshakeMessage.
	maxHandshakeFragments = (maxHandshakeMessage + fragmentPayload - 1) / fragmentPayload

	// amplificationFactor is how many bytes a responder may send to an
	// address that has not proven it receives, per byte received from it
	// (RFC 9000 §8.1).
	amplificationFactor = 3
)

// Timing constants: the defaults of Config and the fixed timers of the
// protocol, each with its meaning.
const (
	// DefaultHandshakeTimeout is how long a handshake may take end to end
	// before it is abandoned (both roles).
	DefaultHandshakeTimeout = 10 * time.Second

	// DefaultRetransmitInitial is the first retransmission timeout of a
	// handshake flight; it doubles (with ±25% jitter) up to retransmitMax.
	DefaultRetransmitInitial = 250 * time.Millisecond

	// retransmitMax caps the retransmission backoff of a handshake flight.
	retransmitMax = 2 * time.Second

	// DefaultRekeyAfter is the age of the sending keys after which the
	// session's initiator starts a new handshake (WireGuard REKEY_AFTER_TIME).
	DefaultRekeyAfter = 2 * time.Minute

	// DefaultRejectAfter is the age after which keys are refused for both
	// sending and receiving (WireGuard REJECT_AFTER_TIME).
	DefaultRejectAfter = 3 * time.Minute

	// responderRekeyDelay delays a responder's own rekey past the
	// initiator's, so that normally only one side starts one.
	responderRekeyDelay = 20 * time.Second

	// rekeyRetryInterval is the pause between two failed rekey attempts.
	rekeyRetryInterval = 5 * time.Second

	// DefaultKeepaliveInterval is the idle time after which a session sends
	// an authenticated keepalive.
	DefaultKeepaliveInterval = 5 * time.Second

	// DefaultIdleTimeout closes a session that received no authenticated
	// packet for this long.
	DefaultIdleTimeout = 30 * time.Second

	// DefaultTickInterval is the period of the endpoint's timer loop, which
	// drives retransmissions, keepalives, rekeys and timeouts.
	DefaultTickInterval = 50 * time.Millisecond

	// cookieRotation is how often the cookie secret changes; a cookie made
	// with the previous secret is still accepted.
	cookieRotation = 2 * time.Minute

	// reassemblyTimeout drops a partial handshake message this old.
	reassemblyTimeout = 5 * time.Second

	// replayCacheTTL is how long a processed M1 nonce is remembered, so a
	// replayed M1 is refused. It covers the longest life of a cookie (two
	// rotations): a replayed M1 whose cookie still verifies would otherwise
	// count as proven and get its M2 without the 3x budget.
	replayCacheTTL = 2 * cookieRotation

	// m3AckWindow is how long a responder answers a duplicate M3 with a
	// keepalive (the initiator retransmits M3 until it sees one).
	m3AckWindow = DefaultHandshakeTimeout

	// policyTimeout bounds a MemberRepo lookup during a handshake.
	policyTimeout = 2 * time.Second

	// closeRepeats is how many times an explicit close record is sent.
	closeRepeats = 2
)

// Limits defaults (see Limits for their meaning).
const (
	// DefaultMaxHandshakes is the default of Limits.MaxHandshakes.
	DefaultMaxHandshakes = 256
	// DefaultUnderLoadHandshakes is the default of Limits.UnderLoadHandshakes.
	DefaultUnderLoadHandshakes = 64
	// DefaultHandshakeRate is the default of Limits.HandshakeRate (per second).
	DefaultHandshakeRate = 10
	// DefaultHandshakeBurst is the default of Limits.HandshakeBurst.
	DefaultHandshakeBurst = 20
	// DefaultMaxPendingM1 is the default of Limits.MaxPendingM1.
	DefaultMaxPendingM1 = 256
	// DefaultMaxPendingM1PerIP is the default of Limits.MaxPendingM1PerIP.
	DefaultMaxPendingM1PerIP = 4
	// DefaultMaxRateSources is the default of Limits.MaxRateSources.
	DefaultMaxRateSources = 4096
	// DefaultRekeyAfterMessages is the default of Limits.RekeyAfterMessages.
	DefaultRekeyAfterMessages = 1 << 24
	// DefaultRejectAfterMessages is the default of Limits.RejectAfterMessages.
	DefaultRejectAfterMessages = 1 << 26
	// DefaultMaxMessageSize is the default of Limits.MaxMessageSize.
	DefaultMaxMessageSize = 4 << 20
	// DefaultChainCacheSize is the default of Limits.ChainCacheSize.
	DefaultChainCacheSize = 1024
)

// Internal bounds.
const (
	// replayCacheSize bounds the M1 nonce cache.
	replayCacheSize = 8192
	// m2FailureLimit is how many M2s that fail to authenticate an initiator
	// tolerates before it abandons the handshake.
	m2FailureLimit = 8
	// recvQueueLen bounds the per-session queue of decrypted KCP packets
	// (its ring grows to this only under load).
	recvQueueLen = 4096
	// datagramQueueLen is the per-session queue of received datagrams.
	datagramQueueLen = 256
	// messageQueueLen is the per-session queue of received messages.
	messageQueueLen = 64
	// acceptQueueLen is the per-session backlog of peer-opened streams.
	acceptQueueLen = 64
	// sessionAcceptQueueLen is the endpoint's backlog of inbound sessions.
	sessionAcceptQueueLen = 64
	// handshakeQueueLen is the queue of handshake messages awaiting a worker.
	handshakeQueueLen = 256
)
