package swim

import (
	"slices"
	"time"

	"github.com/snowmerak/clustering/core"
)

// State is a member's liveness as this node sees it.
type State uint8

// Member states. A member announces alive and left itself; suspect and dead
// are accusations by others, which the member refutes by announcing alive
// with a higher incarnation.
const (
	// StateAlive: the member answers probes, or nobody has accused it.
	StateAlive State = iota + 1
	// StateSuspect: a member failed to reach it; it is dead unless it refutes
	// within the suspicion timeout.
	StateSuspect
	// StateDead: a suspicion expired without refutation.
	StateDead
	// StateLeft: the member announced its departure.
	StateLeft
)

// String returns "alive", "suspect", "dead" or "left".
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return "unknown"
}

// MemberState is a snapshot of one member as this node sees it.
type MemberState struct {
	// ID names the member.
	ID core.NodeID
	// State is its liveness; Incarnation the incarnation that state refers to.
	State       State
	Incarnation uint64
	// Meta is what the member last announced (zero if only a departure is known).
	Meta Meta
	// Credential is what its alive record carries (e.g. a certificate chain).
	Credential []byte
	// RTT is the round-trip time of this node's last direct probe of it (0 if none).
	RTT time.Duration
	// Since is when this node last saw State change.
	Since time.Time
}

func (m MemberState) clone() MemberState {
	m.Meta = m.Meta.Clone()
	m.Credential = slices.Clone(m.Credential)
	return m
}

// EventKind says what changed about a member.
type EventKind uint8

// The kinds of change an Event reports.
const (
	// EventJoin: a member became known alive (new, or back after dead or left).
	EventJoin EventKind = iota + 1
	// EventUpdate: an alive member announced new metadata or credential.
	EventUpdate
	// EventSuspect: a member is suspected.
	EventSuspect
	// EventAlive: a suspected member refuted the suspicion.
	EventAlive
	// EventDead: a member was declared dead.
	EventDead
	// EventLeave: a member announced its departure.
	EventLeave
	// EventReap: a dead or departed member was forgotten after TombstoneTimeout.
	EventReap
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventSuspect:
		return "suspect"
	case EventAlive:
		return "alive"
	case EventDead:
		return "dead"
	case EventLeave:
		return "leave"
	case EventReap:
		return "reap"
	}
	return "unknown"
}

// Event reports a change in another member's state (never this node's own).
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Member is the member after the change (for EventReap, as last known).
	Member MemberState
	// Previous is the state before the change (0 for a newly known member).
	Previous State
}

// Stats counts what a Node has done, for metrics and tests.
type Stats struct {
	// Probes counts probes started; ProbeFailures those that ended with no ack.
	Probes, ProbeFailures int64
	// IndirectProbes counts ping-req messages sent.
	IndirectProbes int64
	// Accusations counts suspect and dead records this node signed.
	Accusations int64
	// Refutations counts alive records signed to refute an accusation.
	Refutations int64
	// Verified counts signature verifications performed; CacheHits those
	// answered by the verification cache; Rejected records that failed.
	Verified, CacheHits, Rejected int64
	// Pulls and PushPulls count exchanges started; the Failed fields those that failed.
	Pulls, PullsFailed, PushPulls, PushPullsFailed int64
	// BadMessages counts messages that failed to decode.
	BadMessages int64
	// Health is the local health score (0 is healthy; see Config.AwarenessMaxMultiplier).
	Health int
}
