package swim

import "time"

// awareness is Lifeguard's local health multiplier: a score in [0, max) that
// rises when this node misses acks and nacks it should have received (a sign
// that it, not its peers, is slow) and falls with every successful probe.
// Probe intervals are stretched by score+1, so a struggling node judges its
// peers more slowly instead of accusing them.
type awareness struct {
	max   int
	score int
}

// apply adds delta to the score, clamped to [0, max-1].
func (a *awareness) apply(delta int) {
	a.score = min(max(a.score+delta, 0), a.max-1)
}

// scale stretches a timeout by the current health multiplier.
func (a *awareness) scale(d time.Duration) time.Duration {
	return d * time.Duration(a.score+1)
}
