package swim

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Config configures a Node: its identity and metadata, how it learns other
// nodes' keys, and the protocol's timing. Start from DefaultLANConfig,
// DefaultWANConfig or DefaultLocalConfig and fill in the identity fields.
type Config struct {
	// Signer is this node's identity key; its NodeID (core.NodeIDOf of the
	// public key) names the node, and it signs every record the node announces.
	Signer core.Signer
	// Keys resolves and authorizes other nodes' public keys. Required.
	Keys KeyResolver
	// Meta is the metadata announced in this node's alive records.
	Meta Meta
	// Credential is carried in this node's alive records and handed to other
	// nodes' Keys (for example the node's certificate chain in DER). Optional.
	Credential []byte
	// Incarnation is the first incarnation this node announces. Zero means the
	// clock's Unix time in milliseconds, so a restarted node outranks the
	// records its previous run signed without having to persist anything.
	Incarnation uint64

	// Rand drives every random choice (probe order, gossip targets, stagger).
	// Nil means a generator seeded from crypto/rand; simulations pass a seeded one.
	Rand *rand.Rand
	// Logger receives protocol events worth a line; nil discards them.
	Logger *slog.Logger
	// Events, if set, is called with every change in another member's state,
	// one call at a time and in order. It must not block for long; it may call
	// the Node's methods.
	Events func(Event)

	// ProbeInterval is the time between failure-detection probes, each of one
	// member in a shuffled round-robin order.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct probe waits for an ack before asking
	// IndirectChecks other members to probe the target. It should exceed the
	// 99th percentile round-trip time and leave room before ProbeInterval for
	// the indirect round trips.
	ProbeTimeout time.Duration
	// IndirectChecks is the number of members asked to probe a target that
	// missed its direct probe.
	IndirectChecks int
	// SuspicionMult scales the suspicion timeout: min = SuspicionMult ×
	// max(1, log10(n)) × ProbeInterval for n members.
	SuspicionMult int
	// SuspicionMaxTimeoutMult bounds the timeout of an unconfirmed suspicion:
	// max = SuspicionMaxTimeoutMult × min. Independent confirmations shrink the
	// timeout from max towards min (Lifeguard).
	SuspicionMaxTimeoutMult int
	// AwarenessMaxMultiplier caps local health awareness: a node that misses
	// acks and nacks stretches its own probe interval up to this factor
	// instead of accusing healthy peers (Lifeguard).
	AwarenessMaxMultiplier int
	// RetransmitMult sets how often each notice is piggybacked or gossiped:
	// RetransmitMult × ⌈log10(n+1)⌉ times.
	RetransmitMult int
	// GossipInterval is the time between gossip rounds; a round sends pending
	// notices to GossipNodes random members (none when nothing is pending).
	GossipInterval time.Duration
	// GossipNodes is the fan-out of a gossip round.
	GossipNodes int
	// GossipToTheDeadTime is how long a member declared dead still receives
	// gossip, so that it can learn of the accusation and refute it.
	GossipToTheDeadTime time.Duration
	// PushPullInterval is the time between full-state exchanges with a random
	// member, scaled up by ⌈log2(n/32)⌉+1 above 32 members (as memberlist does).
	PushPullInterval time.Duration
	// ReconnectInterval is the time between attempts to exchange state with a
	// random dead member, which is how two sides of a healed partition find
	// each other again. Zero disables reconnection.
	ReconnectInterval time.Duration
	// TombstoneTimeout is how long a dead or departed member is remembered
	// (and reconnection tried) before it is dropped. While remembered, a
	// replay of its older records cannot resurrect it.
	TombstoneTimeout time.Duration
	// RequestTimeout bounds each request/response exchange (pulls, push-pull,
	// leave).
	RequestTimeout time.Duration
	// MaxDatagramSize bounds every datagram this node sends; piggybacked
	// notices fill what the probe leaves.
	MaxDatagramSize int
	// VerifyCacheSize is the number of record verification results kept, so a
	// record seen many times is verified once.
	VerifyCacheSize int
}

// DefaultLANConfig returns timing for a single data centre, memberlist's LAN
// defaults: a crash is typically detected in 8–10 s (SuspicionMult 4 gives a
// minimum suspicion of 4·log10(n) probe intervals, 7.2 s at 64 nodes, plus the
// probe that fails and the spread of the verdict), and a false suspicion
// needs the direct probe and all three indirect probes to fail.
func DefaultLANConfig() Config {
	return Config{
		// One probe a second per node: each member is probed about once a
		// second by someone, for a few small datagrams per node per second.
		ProbeInterval: time.Second,
		// Half the interval: far above LAN round trips (< 1 ms), and leaves
		// 500 ms for the indirect probes (four one-way hops) and their nacks.
		ProbeTimeout: 500 * time.Millisecond,
		// Three helpers make a false suspicion need all four paths to fail.
		IndirectChecks: 3,
		// Lifeguard's recommended values (memberlist's LAN defaults).
		SuspicionMult:           4,
		SuspicionMaxTimeoutMult: 6,
		AwarenessMaxMultiplier:  8,
		// 4·⌈log10(n+1)⌉ transmissions reach every node with high probability.
		RetransmitMult: 4,
		// Five rounds a second of three targets: changes spread in about
		// log3(n) rounds, well under a second.
		GossipInterval:      200 * time.Millisecond,
		GossipNodes:         3,
		GossipToTheDeadTime: 30 * time.Second,
		// Anti-entropy for anything gossip missed; summaries are ~49 bytes a
		// member, and full records move only when missing.
		PushPullInterval: 30 * time.Second,
		// Serf's partition-healing default.
		ReconnectInterval: 30 * time.Second,
		// Long enough to outlast any replay window a restart opens.
		TombstoneTimeout: time.Hour,
		// memberlist's TCPTimeout.
		RequestTimeout: 10 * time.Second,
		// The transport's datagram budget (DESIGN.md §3).
		MaxDatagramSize: 1200,
		VerifyCacheSize: 4096,
	}
}

// DefaultWANConfig returns timing for members spread over regions, memberlist's
// WAN defaults: slower probes with timeouts above intercontinental round trips
// and a longer suspicion, trading detection time (tens of seconds) for fewer
// false alarms on lossy links.
func DefaultWANConfig() Config {
	c := DefaultLANConfig()
	// 3 s covers a 300 ms RTT with retransmission-free margin; 5 s leaves two
	// seconds for the indirect round trips over the same distances.
	c.ProbeTimeout = 3 * time.Second
	c.ProbeInterval = 5 * time.Second
	c.SuspicionMult = 6
	// Wider fan-out at a slower pace: the same spread per second, fewer packets.
	c.GossipNodes = 4
	c.GossipInterval = 500 * time.Millisecond
	c.GossipToTheDeadTime = 60 * time.Second
	c.PushPullInterval = 60 * time.Second
	c.ReconnectInterval = 60 * time.Second
	c.RequestTimeout = 30 * time.Second
	return c
}

// DefaultLocalConfig returns timing for members on one host or a loopback test
// cluster, memberlist's Local defaults: tight timeouts and little redundancy,
// since packets are not lost.
func DefaultLocalConfig() Config {
	c := DefaultLANConfig()
	c.ProbeTimeout = 200 * time.Millisecond
	c.IndirectChecks = 1
	c.SuspicionMult = 3
	c.RetransmitMult = 2
	c.GossipInterval = 100 * time.Millisecond
	c.GossipToTheDeadTime = 15 * time.Second
	c.PushPullInterval = 15 * time.Second
	c.ReconnectInterval = 5 * time.Second
	c.TombstoneTimeout = 5 * time.Minute
	c.RequestTimeout = time.Second
	return c
}

// validate reports the first unusable setting.
func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("swim: config: "+format+": %w", append(args, core.ErrInvalidInput)...)
	}
	switch {
	case c.Signer == nil:
		return bad("Signer is required")
	case c.Keys == nil:
		return bad("Keys (a KeyResolver) is required")
	case c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.ProbeTimeout >= c.ProbeInterval:
		return bad("need 0 < ProbeTimeout (%v) < ProbeInterval (%v)", c.ProbeTimeout, c.ProbeInterval)
	case c.IndirectChecks < 0 || c.GossipNodes < 1 || c.RetransmitMult < 1:
		return bad("IndirectChecks %d, GossipNodes %d, RetransmitMult %d out of range", c.IndirectChecks, c.GossipNodes, c.RetransmitMult)
	case c.SuspicionMult < 1 || c.SuspicionMaxTimeoutMult < 1 || c.AwarenessMaxMultiplier < 1:
		return bad("SuspicionMult, SuspicionMaxTimeoutMult and AwarenessMaxMultiplier must be ≥ 1")
	case c.GossipInterval <= 0 || c.PushPullInterval <= 0 || c.RequestTimeout <= 0 || c.TombstoneTimeout <= 0:
		return bad("GossipInterval, PushPullInterval, RequestTimeout and TombstoneTimeout must be positive")
	case c.ReconnectInterval < 0 || c.GossipToTheDeadTime < 0:
		return bad("ReconnectInterval and GossipToTheDeadTime must not be negative")
	case c.MaxDatagramSize < minDatagramSize:
		return bad("MaxDatagramSize %d below %d", c.MaxDatagramSize, minDatagramSize)
	case c.VerifyCacheSize < 1:
		return bad("VerifyCacheSize must be ≥ 1")
	}
	if err := c.Meta.validate(); err != nil {
		return fmt.Errorf("swim: config: %w", err)
	}
	if len(c.Credential) > MaxCredentialSize {
		return bad("Credential of %d bytes exceeds %d", len(c.Credential), MaxCredentialSize)
	}
	return nil
}

// SuspicionTimeouts returns the shortest and longest suspicion timeout in a
// cluster of n members: an accusation confirmed by enough independent members
// expires after min, an unconfirmed one after max.
func (c *Config) SuspicionTimeouts(n int) (minimum, maximum time.Duration) {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	minimum = time.Duration(float64(c.SuspicionMult) * scale * float64(c.ProbeInterval))
	return minimum, time.Duration(c.SuspicionMaxTimeoutMult) * minimum
}

// retransmitLimit is how many times a notice is sent in a cluster of n members.
func (c *Config) retransmitLimit(n int) int {
	return c.RetransmitMult * int(math.Ceil(math.Log10(float64(n+1))))
}

// pushPullPeriod scales PushPullInterval with the cluster size, as memberlist
// does above 32 members, so full-state traffic per node stays bounded.
func (c *Config) pushPullPeriod(n int) time.Duration {
	const threshold = 32
	if n <= threshold {
		return c.PushPullInterval
	}
	mult := math.Ceil(math.Log2(float64(n))-math.Log2(threshold)) + 1
	return time.Duration(mult) * c.PushPullInterval
}

// DisseminationBound is the time within which a change a member announces
// about itself (joining, new metadata, a refutation, leaving) reaches every
// other member of a healthy, connected n-member cluster. Gossip usually
// spreads it within a second (each notice is sent RetransmitMult·⌈log10(n+1)⌉
// times), but infect-and-die gossip misses a given member with probability
// about e^−RetransmitMult·⌈log10(n+1)⌉. The bound comes from the self-notice
// every datagram carries: within one probe round, n−1 intervals plus the
// initial stagger, the member and each peer ping each other, and a peer that
// hears a newer self-notice pulls the record.
func (c *Config) DisseminationBound(n int) time.Duration {
	return time.Duration(n+1) * c.ProbeInterval
}

// DetectionBound is the time within which every live member of a healthy
// n-member cluster declares a crashed member dead: a full probe round to reach
// it ((n−1) probe intervals and the stagger in the worst case), its failed
// probe, and the longest (unconfirmed) suspicion timeout, which every member
// runs once the suspicion reaches it (members remind each other of held
// suspicions in every datagram), plus a few gossip rounds. Typical detection
// is far faster: many members probe each member every interval, and their
// confirmations cut the suspicion to its minimum.
func (c *Config) DetectionBound(n int) time.Duration {
	_, maximum := c.SuspicionTimeouts(n)
	return time.Duration(n+1)*c.ProbeInterval + maximum + time.Duration(c.retransmitLimit(n))*c.GossipInterval
}
