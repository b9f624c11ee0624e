package transport

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
)

// Config configures an Endpoint. Identity, Suite and at least one tier of
// Policy are required; every other field has a documented default that a
// zero value selects.
type Config struct {
	// Identity is this node's key and certificate chain.
	Identity Identity
	// Suite is the algorithm suite this endpoint dials with and accepts.
	Suite core.Suite
	// AcceptSuites lists further suites accepted from initiators (for a
	// migration between suites); an initiator always offers Suite.
	AcceptSuites []core.Suite
	// Policy decides which peers may hold a session.
	Policy PeerPolicy

	// HandshakeTimeout bounds a handshake (default DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// RetransmitInitial is a handshake flight's first retransmission
	// timeout; it doubles up to 2s with ±25% jitter (default 250ms).
	RetransmitInitial time.Duration
	// RekeyAfter is the key age that starts a rekey (default 2 minutes).
	RekeyAfter time.Duration
	// RejectAfter is the key age after which keys are refused (default 3
	// minutes; must exceed RekeyAfter).
	RejectAfter time.Duration
	// KeepaliveInterval is the idle time before a keepalive (default 5s).
	KeepaliveInterval time.Duration
	// IdleTimeout closes a session silent for this long (default 30s).
	IdleTimeout time.Duration
	// TickInterval is the timer loop's period (default 50ms).
	TickInterval time.Duration

	// Limits bounds the resources unauthenticated peers can consume.
	Limits Limits
	// KCP tunes the reliable layer.
	KCP KCPConfig

	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
	// Rand is the randomness source (default crypto/rand.Reader).
	Rand io.Reader
	// Logger receives handshake refusals and session events (default: none).
	Logger *slog.Logger
}

// Identity is a node's signing key and the certificate chain that names it,
// leaf first; the leaf's key must be the signer's.
type Identity struct {
	// Signer is the private key.
	Signer core.Signer
	// Chain is the DER certificates, leaf first, then intermediates.
	Chain [][]byte
}

// PeerPolicy decides which peers may hold a session. The seed's tiers are
// kept, but every tier that is configured must accept the peer (a stricter
// reading than "the first configured tier decides"), and at least one must
// be configured. Policy is checked at every handshake, rekeys included, so
// a revoked certificate or a removed member loses its session within one
// rekey interval.
type PeerPolicy struct {
	// Members is the allow-list: the peer's NodeID must be a member.
	Members core.MemberRepo
	// Trust must verify the peer's chain to one of its roots at the current
	// time, with revocation of every certificate in the chain.
	Trust *pki.TrustStore
	// Pinned lists NodeIDs accepted regardless of their issuer.
	Pinned []core.NodeID
	// KeyUsages are required of the peer's leaf when Trust is set.
	KeyUsages []x509.ExtKeyUsage
}

// Limits bounds what unauthenticated traffic can make an endpoint spend.
type Limits struct {
	// MaxHandshakes bounds concurrent handshakes as responder (default 256);
	// further M1s are dropped.
	MaxHandshakes int
	// UnderLoadHandshakes is the number of concurrent responder handshakes
	// at which every M1 without a valid cookie gets a cookie reply (default 64).
	UnderLoadHandshakes int
	// HandshakeRate and HandshakeBurst are the per-source token bucket for
	// M1s that start work (default 10/s, burst 20); a source is an IPv4
	// address or an IPv6 /64. M1s without a valid cookie (whose source may
	// be spoofed) and M1s with one have separate buckets; an unproven M1
	// over its budget gets a cookie reply, a proven one is dropped.
	HandshakeRate  float64
	HandshakeBurst int
	// MaxRateSources bounds each rate limiter table (default 4096).
	MaxRateSources int
	// MaxPendingM1 bounds partially received M1s (default 256), and
	// MaxPendingM1PerIP those from one source (an IPv4 address or an IPv6
	// /64; default 4).
	MaxPendingM1      int
	MaxPendingM1PerIP int
	// RekeyAfterMessages starts a rekey after this many records under one
	// key (default 2^24, within AES-GCM's TLS 1.3 bound), and
	// RejectAfterMessages refuses the key after this many (default 2^26).
	RekeyAfterMessages  uint64
	RejectAfterMessages uint64
	// MaxMessageSize bounds a Send/Receive message (default 4 MiB).
	MaxMessageSize int
	// ChainCacheSize bounds the cache of verified peer chains (default 1024).
	// A negative value disables it: chains are then always sent in full and
	// M1 never carries a hint.
	ChainCacheSize int
}

// KCPConfig tunes KCP and the stream multiplexer. The defaults are kcptun's
// "fast3" profile with large windows: they trade some bandwidth for latency
// and throughput, which is what a cluster's own network wants.
type KCPConfig struct {
	// NoDelay, Interval (ms), Resend and NoCongestion are kcp's ikcp_nodelay
	// parameters (default 1, 10, 2, 1).
	NoDelay, Interval, Resend, NoCongestion int
	// SendWindow and ReceiveWindow are in packets (default 1024 each).
	SendWindow, ReceiveWindow int
	// MTU is KCP's packet size; a record adds 33 bytes (header, content type,
	// AEAD tag), so the default of 1167 keeps datagrams at 1200 bytes.
	MTU int
	// AckNoDelay sends acknowledgements at once instead of at the next tick
	// (default false; true lowers latency at the cost of packets).
	AckNoDelay bool
	// StreamBuffer is the per-stream receive window (default 1 MiB) and
	// SessionBuffer the whole session's (default 8 MiB).
	StreamBuffer, SessionBuffer int
	// FrameSize is the multiplexer's largest frame (default 32 KiB).
	FrameSize int
}

// withDefaults returns c with every zero field set to its default, or an
// error for an invalid combination.
func (c Config) withDefaults() (Config, error) {
	if err := c.Suite.Validate(); err != nil {
		return c, fmt.Errorf("transport config: %w", err)
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setDur(&c.RetransmitInitial, DefaultRetransmitInitial)
	setDur(&c.RekeyAfter, DefaultRekeyAfter)
	setDur(&c.RejectAfter, DefaultRejectAfter)
	setDur(&c.KeepaliveInterval, DefaultKeepaliveInterval)
	setDur(&c.IdleTimeout, DefaultIdleTimeout)
	setDur(&c.TickInterval, DefaultTickInterval)
	l := &c.Limits
	setInt(&l.MaxHandshakes, DefaultMaxHandshakes)
	setInt(&l.UnderLoadHandshakes, DefaultUnderLoadHandshakes)
	if l.HandshakeRate <= 0 {
		l.HandshakeRate = DefaultHandshakeRate
	}
	setInt(&l.HandshakeBurst, DefaultHandshakeBurst)
	setInt(&l.MaxRateSources, DefaultMaxRateSources)
	setInt(&l.MaxPendingM1, DefaultMaxPendingM1)
	setInt(&l.MaxPendingM1PerIP, DefaultMaxPendingM1PerIP)
	if l.RekeyAfterMessages == 0 {
		l.RekeyAfterMessages = DefaultRekeyAfterMessages
	}
	if l.RejectAfterMessages == 0 {
		l.RejectAfterMessages = DefaultRejectAfterMessages
	}
	setInt(&l.MaxMessageSize, DefaultMaxMessageSize)
	if l.ChainCacheSize == 0 {
		l.ChainCacheSize = DefaultChainCacheSize
	}
	k := &c.KCP
	def := DefaultKCPConfig(c.Suite)
	if k.NoDelay == 0 && k.Interval == 0 && k.Resend == 0 && k.NoCongestion == 0 {
		k.NoDelay, k.Interval, k.Resend, k.NoCongestion = def.NoDelay, def.Interval, def.Resend, def.NoCongestion
	}
	setInt(&k.SendWindow, def.SendWindow)
	setInt(&k.ReceiveWindow, def.ReceiveWindow)
	setInt(&k.StreamBuffer, def.StreamBuffer)
	setInt(&k.SessionBuffer, def.SessionBuffer)
	setInt(&k.FrameSize, def.FrameSize)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	overhead := recordHeaderSize + 1 + aeadOverhead(c.Suite)
	setInt(&k.MTU, def.MTU)
	switch {
	case c.RejectAfter <= c.RekeyAfter:
		return c, fmt.Errorf("transport config: RejectAfter %v must exceed RekeyAfter %v: %w", c.RejectAfter, c.RekeyAfter, core.ErrInvalidInput)
	case l.RejectAfterMessages <= l.RekeyAfterMessages:
		return c, fmt.Errorf("transport config: RejectAfterMessages must exceed RekeyAfterMessages: %w", core.ErrInvalidInput)
	case k.MTU+overhead > maxRecordDatagram || k.MTU < 100:
		return c, fmt.Errorf("transport config: KCP MTU %d out of range [100, %d]: %w", k.MTU, maxRecordDatagram-overhead, core.ErrInvalidInput)
	case k.StreamBuffer > k.SessionBuffer:
		return c, fmt.Errorf("transport config: StreamBuffer exceeds SessionBuffer: %w", core.ErrInvalidInput)
	case k.FrameSize > 65535:
		return c, fmt.Errorf("transport config: FrameSize %d exceeds 65535: %w", k.FrameSize, core.ErrInvalidInput)
	case c.Identity.Signer == nil || len(c.Identity.Chain) == 0:
		return c, fmt.Errorf("transport config: identity needs a signer and a chain: %w", core.ErrInvalidInput)
	case len(c.Identity.Chain) > maxChainCerts:
		return c, fmt.Errorf("transport config: chain of %d certificates exceeds %d: %w", len(c.Identity.Chain), maxChainCerts, core.ErrInvalidInput)
	case c.Policy.Members == nil && c.Policy.Trust == nil && len(c.Policy.Pinned) == 0:
		return c, fmt.Errorf("transport config: the peer policy has no tier (members, trust store or pinned IDs): %w", core.ErrInvalidInput)
	}
	for _, s := range c.AcceptSuites {
		if err := s.Validate(); err != nil {
			return c, fmt.Errorf("transport config: accepted suite: %w", err)
		}
	}
	return c, nil
}

// DefaultKCPConfig returns the KCP and multiplexer tuning a zero KCPConfig
// selects for suite: NoDelay(1, 10, 2, 1), 1024-packet windows, an MTU that
// keeps records within 1200-byte datagrams, 1 MiB per stream and 8 MiB per
// session of receive buffer, 32 KiB frames.
//
// Measured on loopback (transport and integration benchmarks): the windows
// (1.2 MB of KCP segments, 1 MiB per stream) exceed the bandwidth-delay
// product of a LAN many times over, so a bulk stream is bound by CPU, not
// by flow control; 64 KiB frames were slower than 32 KiB ones (an app's
// 64 KiB write then splits into two frames); acknowledging at once
// (AckNoDelay) costs packets and gained nothing here. The MTU stays at the
// 1200-byte datagram every IPv6 path carries; on a network known to carry
// larger datagrams a bigger MTU (up to 1439 with a 16-byte tag) means fewer
// records per byte.
func DefaultKCPConfig(suite core.Suite) KCPConfig {
	return KCPConfig{
		NoDelay: 1, Interval: 10, Resend: 2, NoCongestion: 1,
		SendWindow: 1024, ReceiveWindow: 1024,
		MTU:          maxDatagram - recordHeaderSize - 1 - aeadOverhead(suite),
		StreamBuffer: 1 << 20, SessionBuffer: 8 << 20, FrameSize: 32 << 10,
	}
}

// aeadOverhead is the tag size of the suite's AEAD.
func aeadOverhead(s core.Suite) int {
	a, err := s.AEAD.New(make([]byte, s.AEAD.KeySize()))
	if err != nil {
		return 16
	}
	return a.Overhead()
}
