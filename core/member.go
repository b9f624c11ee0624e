package core

import (
	"context"
	"maps"
	"net/netip"
	"slices"
)

// Member is one node's record in the member registry: who it is (ID and
// certificate), where it sits in the topology (Region > Zone > Rack), how to
// reach it and how much load it takes (Weight).
type Member struct {
	// ID is the NodeID of the member's certificate key.
	ID NodeID
	// Region, Zone and Rack place the member in the failure-domain hierarchy.
	Region, Zone, Rack string
	// IP is the member's address; Port its transport port (0 when unknown).
	IP   netip.Addr
	Port uint16
	// Domain is the member's DNS name, if any.
	Domain string
	// Weight is the member's relative capacity for placement; stores treat a
	// value ≤ 0 as 1.
	Weight int
	// Labels holds free-form metadata.
	Labels map[string]string
	// Certificate is the DER of the member's leaf certificate.
	Certificate []byte
	// Revision is the registry revision of the member's last change; repositories
	// set it and Put compares against it.
	Revision int64
}

// Addr returns the member's transport address, or the zero AddrPort when IP is unset.
func (m Member) Addr() netip.AddrPort {
	if !m.IP.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(m.IP, m.Port)
}

// Clone returns a deep copy of m, sharing no slices or maps with it.
func (m Member) Clone() Member {
	m.Labels = maps.Clone(m.Labels)
	m.Certificate = slices.Clone(m.Certificate)
	return m
}

// AnyRevision passed as the expected revision makes Put and Delete unconditional.
const AnyRevision int64 = -1

// EventType says what a MemberEvent reports.
type EventType uint8

// The kinds of member change.
const (
	// EventPut reports a member created or updated.
	EventPut EventType = iota + 1
	// EventDelete reports a member removed; Member holds its ID.
	EventDelete
)

// String returns "put" or "delete".
func (t EventType) String() string {
	switch t {
	case EventPut:
		return "put"
	case EventDelete:
		return "delete"
	}
	return "unknown"
}

// MemberEvent is one change delivered by MemberRepo.Watch.
type MemberEvent struct {
	// Type is the kind of change.
	Type EventType
	// Member is the record after the change (for a delete, at least its ID).
	Member Member
	// Revision is the registry revision at which the change happened.
	Revision int64
	// Err, when set, ends the watch: the channel closes after this event.
	// errors.Is(Err, ErrCompacted) means the caller must List again.
	Err error
}

// MemberRepo stores member records with revisions, so that writers can
// compare-and-set and readers can follow changes. Implementations are safe for
// concurrent use and honour context cancellation.
type MemberRepo interface {
	// List returns every member, sorted by ID, and the registry revision the
	// snapshot reflects (pass it to Watch to follow later changes).
	List(ctx context.Context) ([]Member, int64, error)
	// Get returns one member, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id NodeID) (Member, error)
	// Put creates or replaces m if the stored revision equals expect (0: the
	// member must not exist; AnyRevision: no check), else fails with ErrConflict.
	// It returns the member's new revision.
	Put(ctx context.Context, m Member, expect int64) (int64, error)
	// Delete removes a member if its revision equals expect (AnyRevision: no
	// check), else fails with ErrConflict, and returns the registry revision of
	// the removal; a missing member is ErrNotFound.
	Delete(ctx context.Context, id NodeID, expect int64) (int64, error)
	// Watch delivers, in revision order, every change after revision after.
	// The channel closes when ctx ends or the repository closes; an event with
	// Err set comes last when the watch cannot continue.
	Watch(ctx context.Context, after int64) (<-chan MemberEvent, error)
}
