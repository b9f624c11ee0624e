package membership

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// DefaultRetryInterval is how long a Store waits before listing its
// repository again after a watch ends (compaction, an error, a lost backend).
const DefaultRetryInterval = time.Second

// Config tunes a Store.
type Config struct {
	// Placement tunes the placement built for each membership revision.
	Placement PlacementConfig
	// RetryInterval is the wait before re-listing after a watch ends
	// (DefaultRetryInterval when 0).
	RetryInterval time.Duration
}

// Store is the membership as a core.MemberRepo holds it, mirrored in memory.
// Writes go to the repository; every change, whoever made it, arrives
// through the repository's watch and is published as a new immutable
// snapshot. Reads load the latest snapshot atomically and never wait for a
// writer. Safe for concurrent use.
type Store struct {
	repo  core.MemberRepo
	cfg   Config
	snap  atomic.Pointer[snapshot]
	place atomic.Pointer[placed]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever snap or place advances
	cancel  context.CancelFunc
	done    chan struct{} // closed when the watch loop ends
	kick    chan struct{} // one pending placement rebuild
	stop    chan struct{} // ends the build loop
	built   chan struct{} // closed when the build loop ends
}

// placed is a placement with the revision it was built for.
type placed struct {
	p   *Placement
	rev int64
}

// Open lists repo, builds the first snapshot and placement, and follows the
// repository's changes until Close.
func Open(ctx context.Context, repo core.MemberRepo, cfg Config) (*Store, error) {
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if _, err := NewPlacement(nil, cfg.Placement); err != nil {
		return nil, fmt.Errorf("membership: open: %w", err)
	}
	ms, rev, err := repo.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("membership: open: list: %w", err)
	}
	s := &Store{
		repo: repo, cfg: cfg,
		changed: make(chan struct{}), done: make(chan struct{}),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), built: make(chan struct{}),
	}
	state := make(map[core.NodeID]core.Member, len(ms))
	for _, m := range ms {
		state[m.ID] = m
	}
	s.publish(rev, state)
	p, err := NewPlacement(s.snap.Load().members, cfg.Placement)
	if err != nil {
		return nil, fmt.Errorf("membership: open: %w", err)
	}
	s.place.Store(&placed{p: p, rev: rev})
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.buildLoop()
	go s.run(runCtx, rev, state)
	return s, nil
}

// Close stops following the repository. It does not close the repository.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	close(s.stop)
	<-s.built
	return nil
}

// publish installs the snapshot of state at rev and asks for its placement.
func (s *Store) publish(rev int64, state map[core.NodeID]core.Member) {
	s.snap.Store(newSnapshot(rev, state))
	s.notify()
	select {
	case s.kick <- struct{}{}:
	default: // a rebuild is already pending; it will read this snapshot
	}
}

// run follows the watch from rev. When the watch ends it resumes from the
// latest snapshot after a pause, or, when the history it needs is compacted,
// lists the repository again.
func (s *Store) run(ctx context.Context, rev int64, state map[core.NodeID]core.Member) {
	defer close(s.done)
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(s.cfg.RetryInterval):
			return true
		}
	}
	for {
		err := s.follow(ctx, rev, state)
		if ctx.Err() != nil {
			return
		}
		state, rev = s.current(), s.snap.Load().rev
		if !errors.Is(err, core.ErrCompacted) {
			if !pause() {
				return
			}
			continue
		}
		ms, r, err := s.repo.List(ctx)
		if err != nil {
			if !pause() {
				return
			}
			continue
		}
		state = make(map[core.NodeID]core.Member, len(ms))
		for _, m := range ms {
			state[m.ID] = m
		}
		rev = r
		s.publish(rev, state)
	}
}

// current returns a mutable copy of the latest snapshot's members.
func (s *Store) current() map[core.NodeID]core.Member {
	snap := s.snap.Load()
	state := make(map[core.NodeID]core.Member, len(snap.members))
	for _, m := range snap.members {
		state[m.ID] = m
	}
	return state
}

// follow applies watch events in batches: everything already delivered is
// applied before one snapshot is published.
func (s *Store) follow(ctx context.Context, rev int64, state map[core.NodeID]core.Member) error {
	ch, err := s.repo.Watch(ctx, rev)
	if err != nil {
		return err
	}
	for ev := range ch {
		state = maps.Clone(state)
		for {
			if ev.Err != nil {
				return ev.Err
			}
			switch ev.Type {
			case core.EventPut:
				state[ev.Member.ID] = ev.Member
			case core.EventDelete:
				delete(state, ev.Member.ID)
			}
			rev = ev.Revision
			var ok bool
			select {
			case ev, ok = <-ch:
			default:
			}
			if !ok {
				break
			}
		}
		s.publish(rev, state)
	}
	return errors.New("membership: watch closed")
}

// WaitRevision blocks until the store reflects revision rev or ctx ends.
func (s *Store) WaitRevision(ctx context.Context, rev int64) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if s.snap.Load().rev >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("membership: wait for revision %d: %w", rev, ctx.Err())
		case <-s.done:
			return fmt.Errorf("membership: wait for revision %d: %w", rev, core.ErrClosed)
		}
	}
}

// WaitPlacement blocks until a placement built for revision rev or later is
// available and returns it.
func (s *Store) WaitPlacement(ctx context.Context, rev int64) (*Placement, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if p := s.place.Load(); p.rev >= rev {
			return p.p, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("membership: wait for placement at revision %d: %w", rev, ctx.Err())
		case <-s.built:
			return nil, fmt.Errorf("membership: wait for placement at revision %d: %w", rev, core.ErrClosed)
		}
	}
}

// notify wakes every WaitRevision and WaitPlacement.
func (s *Store) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Add creates or replaces m in the repository (a weight ≤ 0 becomes 1) and
// returns once this store reflects the change. A member with a certificate
// must have the certificate's NodeID as its ID.
func (s *Store) Add(ctx context.Context, m core.Member) error {
	if m.ID.IsZero() {
		return fmt.Errorf("membership: add: zero member ID: %w", core.ErrInvalidInput)
	}
	if len(m.Certificate) > 0 {
		id, err := NodeIDOfCertificate(m.Certificate)
		if err != nil {
			return fmt.Errorf("membership: add %s: %w", m.ID.Short(), err)
		}
		if id != m.ID {
			return fmt.Errorf("membership: add %s: ID is not the certificate's NodeID %s: %w", m.ID.Short(), id.Short(), core.ErrInvalidInput)
		}
	}
	m = m.Clone()
	m.Weight = max(m.Weight, 1)
	rev, err := s.repo.Put(ctx, m, core.AnyRevision)
	if err != nil {
		return fmt.Errorf("membership: add %s: %w", m.ID.Short(), err)
	}
	return s.WaitRevision(ctx, rev)
}

// Remove deletes a member from the repository (core.ErrNotFound when absent)
// and returns once this store reflects the change.
func (s *Store) Remove(ctx context.Context, id core.NodeID) error {
	rev, err := s.repo.Delete(ctx, id, core.AnyRevision)
	if err != nil {
		return fmt.Errorf("membership: remove %s: %w", id.Short(), err)
	}
	return s.WaitRevision(ctx, rev)
}

// Get returns a copy of the member with id, or an error wrapping core.ErrNotFound.
func (s *Store) Get(id core.NodeID) (core.Member, error) {
	snap := s.snap.Load()
	i, ok := snap.byID[id]
	if !ok {
		return core.Member{}, fmt.Errorf("membership: get %s: %w", id.Short(), core.ErrNotFound)
	}
	return snap.members[i].Clone(), nil
}

// GetByCertificate returns the member whose key the certificate (DER or PEM)
// carries; a renewed certificate finds the same member.
func (s *Store) GetByCertificate(cert []byte) (core.Member, error) {
	id, err := NodeIDOfCertificate(cert)
	if err != nil {
		return core.Member{}, fmt.Errorf("membership: get by certificate: %w", err)
	}
	return s.Get(id)
}

// List returns copies of all members sorted by Region, Zone, Rack, then ID.
func (s *Store) List() []core.Member { return clones(s.snap.Load().members) }

// FindByRegion returns the members of a region, in List order.
func (s *Store) FindByRegion(region string) []core.Member {
	return s.snap.Load().span(1, region, "", "")
}

// FindByZone returns the members of a zone of a region, in List order. Zone
// names are scoped by region, as rack names are by zone.
func (s *Store) FindByZone(region, zone string) []core.Member {
	return s.snap.Load().span(2, region, zone, "")
}

// FindByRack returns the members of one rack, in List order.
func (s *Store) FindByRack(region, zone, rack string) []core.Member {
	return s.snap.Load().span(3, region, zone, rack)
}

// Len returns the number of members.
func (s *Store) Len() int { return len(s.snap.Load().members) }

// Revision returns the repository revision the member snapshot reflects.
func (s *Store) Revision() int64 { return s.snap.Load().rev }

// Placement returns the latest placement and the revision it was built for.
// It is rebuilt in the background after changes, so it can trail Revision
// while a rebuild runs; it is never nil.
func (s *Store) Placement() (*Placement, int64) {
	p := s.place.Load()
	return p.p, p.rev
}
