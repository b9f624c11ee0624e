package swim

import (
	"math"
	"time"

	"github.com/snowmerak/clustering/core"
)

// suspicion is the timer state of one accusation (Lifeguard's dynamic
// suspicion, as in memberlist's suspicion.go): the timeout starts at max and
// shrinks towards min, on a logarithmic curve, as independent members confirm
// the accusation; k confirmations reach min.
type suspicion struct {
	k        int
	min, max time.Duration
	start    time.Time
	// confirmed holds the accusers heard so far; the first is not a confirmation.
	confirmed map[core.NodeID]struct{}
	timer     *tracked
}

func newSuspicion(first core.NodeID, k int, minimum, maximum time.Duration, now time.Time) *suspicion {
	if k < 1 {
		maximum = minimum
	}
	return &suspicion{k: k, min: minimum, max: maximum, start: now, confirmed: map[core.NodeID]struct{}{first: {}}}
}

// confirmations is the number of independent confirmations so far.
func (s *suspicion) confirmations() int { return len(s.confirmed) - 1 }

// confirm records an accuser and reports whether it is a new, useful confirmation.
func (s *suspicion) confirm(from core.NodeID) bool {
	if s.confirmations() >= s.k {
		return false
	}
	if _, dup := s.confirmed[from]; dup {
		return false
	}
	s.confirmed[from] = struct{}{}
	return true
}

// remaining is the time left at now before the suspicion expires.
func (s *suspicion) remaining(now time.Time) time.Duration {
	return remainingSuspicionTime(s.confirmations(), s.k, now.Sub(s.start), s.min, s.max)
}

// remainingSuspicionTime is memberlist's formula: with n of k confirmations,
// the timeout is max − (max−min)·log(n+1)/log(k+1), never below min, less the
// time already elapsed.
func remainingSuspicionTime(n, k int, elapsed, minimum, maximum time.Duration) time.Duration {
	timeout := maximum
	if k > 0 {
		frac := math.Log(float64(n)+1) / math.Log(float64(k)+1)
		raw := maximum.Seconds() - frac*(maximum.Seconds()-minimum.Seconds())
		timeout = time.Duration(math.Floor(1000*raw)) * time.Millisecond
	}
	if timeout < minimum {
		timeout = minimum
	}
	return timeout - elapsed
}
