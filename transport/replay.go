package transport

// The replay window is WireGuard's sliding bitmap (RFC 6479): a ring of
// 64-bit blocks, of which one is always being cleared ahead of the newest
// counter, so replayWindowSize counters behind the newest are remembered.
const (
	replayBlockBits  = 64
	replayRingBlocks = 128
	replayBlockMask  = replayRingBlocks - 1
	// replayWindowSize is how far behind the newest counter a record may
	// arrive and still be accepted once (8128 ≥ the 2048 DESIGN asks for).
	replayWindowSize = (replayRingBlocks - 1) * replayBlockBits
)

// replayWindow remembers which counters have been accepted. It is not safe
// for concurrent use; a keypair's receive side is used by the read loop only.
type replayWindow struct {
	last uint64
	ring [replayRingBlocks]uint64
}

// seen reports whether counter would be refused: accepted before, or too
// far behind the newest counter. It changes nothing, so the read loop can
// refuse a replay before it spends an AEAD open on it.
func (w *replayWindow) seen(counter uint64) bool {
	if counter > w.last {
		return false
	}
	if w.last-counter > replayWindowSize {
		return true
	}
	block := (counter / replayBlockBits) & replayBlockMask
	return w.ring[block]&(1<<(counter%replayBlockBits)) != 0
}

// accept marks counter as received and reports whether it was new. Call it
// only after the record authenticated.
func (w *replayWindow) accept(counter uint64) bool {
	index := counter / replayBlockBits
	if counter > w.last {
		current := w.last / replayBlockBits
		diff := index - current
		if diff > replayRingBlocks {
			diff = replayRingBlocks
		}
		for i := current + 1; i <= current+diff; i++ {
			w.ring[i&replayBlockMask] = 0
		}
		w.last = counter
	} else if w.last-counter > replayWindowSize {
		return false
	}
	block := index & replayBlockMask
	bit := uint64(1) << (counter % replayBlockBits)
	old := w.ring[block]
	w.ring[block] = old | bit
	return old&bit == 0
}
