package membership

// buildLoop rebuilds the placement for the latest snapshot whenever kicked.
// Rebuilds take time at large N (see BenchmarkRebuild), so they run apart
// from the watch loop: member snapshots are never delayed by a rebuild, and
// changes that arrive during one are folded into the next.
func (s *Store) buildLoop() {
	defer close(s.built)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		snap := s.snap.Load()
		if cur := s.place.Load(); cur != nil && cur.rev == snap.rev {
			continue
		}
		p, err := NewPlacement(snap.members, s.cfg.Placement)
		if err != nil {
			continue // only a membership beyond MaxPlacementMembers fails
		}
		s.place.Store(&placed{p: p, rev: snap.rev})
		s.notify()
	}
}
