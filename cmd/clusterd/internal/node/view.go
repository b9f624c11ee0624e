package node

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/snowmerak/clustering/membership/swim"
)

// View is one immutable placement of keys over the members SWIM holds
// alive or suspect: a member declared dead or gone drops out, and comes back
// when it is alive again. Suspects keep their keys, so a false suspicion
// that is refuted moves nothing.
type View struct {
	// Version counts the views this node has built.
	Version uint64
	// Members are the placed members, sorted by ID.
	Members []core.Member
	// Placement maps keys to Members.
	Placement *membership.Placement
}

// Owners returns up to n owners of key, primary first.
func (v *View) Owners(key []byte, n int) []core.NodeID {
	return v.Placement.Owners(key, n, make([]core.NodeID, 0, n))
}

// Has reports whether id is placed.
func (v *View) Has(id core.NodeID) bool {
	_, ok := slices.BinarySearchFunc(v.Members, id, func(m core.Member, id core.NodeID) int { return bytes.Compare(m.ID[:], id[:]) })
	return ok
}

// Partitions returns how many primary partitions each member owns.
func (v *View) Partitions() map[core.NodeID]int {
	out := make(map[core.NodeID]int, len(v.Members))
	for i := range v.Placement.Partitions() {
		out[v.Placement.PartitionOwner(i)]++
	}
	return out
}

// placed reports whether a member in state s keeps its keys.
func placed(s swim.State) bool { return s == swim.StateAlive || s == swim.StateSuspect }

// memberOf is the placement record of a SWIM member: what it announced in
// its signed alive record, its weight within 1..config.MaxWeight.
func memberOf(s swim.MemberState) core.Member {
	return core.Member{
		ID: s.ID, Region: s.Meta.Region, Zone: s.Meta.Zone, Rack: s.Meta.Rack,
		IP: s.Meta.Addr.Addr(), Port: s.Meta.Addr.Port(),
		Weight: min(max(s.Meta.Weight, 1), config.MaxWeight), Labels: s.Meta.Labels,
	}
}

// viewBuilder rebuilds the view after membership changes, in its own
// goroutine, coalescing bursts of changes into one build.
type viewBuilder struct {
	members  func() []swim.MemberState
	cfg      membership.PlacementConfig
	onChange func(old, cur *View)

	mu      sync.Mutex
	cur     *View
	changed chan struct{} // closed and replaced when cur changes
	kick    chan struct{}
}

func newViewBuilder(members func() []swim.MemberState, cfg membership.PlacementConfig, onChange func(old, cur *View)) *viewBuilder {
	return &viewBuilder{members: members, cfg: cfg, onChange: onChange, changed: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// request asks for a rebuild; it never blocks.
func (b *viewBuilder) request() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// run builds views on request until ctx ends.
func (b *viewBuilder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
			b.build()
		}
	}
}

// build makes a view of the current members, if they changed.
func (b *viewBuilder) build() {
	var ms []core.Member
	for _, s := range b.members() {
		if placed(s.State) {
			ms = append(ms, memberOf(s))
		}
	}
	slices.SortFunc(ms, func(a, b core.Member) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	b.mu.Lock()
	old := b.cur
	b.mu.Unlock()
	if old != nil && sameMembers(old.Members, ms) {
		return
	}
	p, err := membership.NewPlacement(ms, b.cfg)
	if err != nil {
		return // only a config error can fail; Start checked the config
	}
	v := &View{Members: ms, Placement: p}
	b.mu.Lock()
	if b.cur != nil {
		v.Version = b.cur.Version + 1
	}
	b.cur = v
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	if b.onChange != nil {
		b.onChange(old, v)
	}
}

// view returns the current view and a channel closed when it changes.
func (b *viewBuilder) view() (*View, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur, b.changed
}

// sameMembers reports whether two sorted member lists place keys alike.
func sameMembers(a, b []core.Member) bool {
	return slices.EqualFunc(a, b, func(x, y core.Member) bool {
		return x.ID == y.ID && x.Region == y.Region && x.Zone == y.Zone && x.Rack == y.Rack && x.Weight == y.Weight
	})
}
