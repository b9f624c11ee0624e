package pqc

import (
	"sync"
	"sync/atomic"
)

// keyCache holds up to a fixed number of expanded ML-DSA public keys, keyed by
// their exact bytes, so a key parsed again (a CA key in every peer's chain, a
// member's key on every gossip message) is not expanded again. Eviction is
// CLOCK (second chance): a hit only sets a flag under the read lock, so hits
// from many goroutines do not contend; a miss that inserts takes the write
// lock. Only keys that were verified with are inserted, so parsing junk keys
// does not evict useful ones. A nil *keyCache caches nothing.
type keyCache struct {
	mu    sync.RWMutex
	index map[string]int // raw key bytes → slot
	slots []cacheSlot
	used  int // slots[:used] are filled
	hand  int // next slot the clock examines
}

type cacheSlot struct {
	key        *expandedKey
	referenced atomic.Bool // set on a hit, cleared as the hand passes
}

// newKeyCache returns a cache of at most entries keys, or nil for entries ≤ 0.
func newKeyCache(entries int) *keyCache {
	if entries <= 0 {
		return nil
	}
	return &keyCache{index: make(map[string]int, entries), slots: make([]cacheSlot, entries)}
}

// get returns the cached key with bytes raw, or nil.
func (c *keyCache) get(raw []byte) *expandedKey {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.index[string(raw)]
	if !ok {
		return nil
	}
	c.slots[i].referenced.Store(true)
	return c.slots[i].key
}

// put inserts k unless a key with the same bytes is already cached, evicting
// the first slot the clock hand finds unreferenced when the cache is full.
func (c *keyCache) put(k *expandedKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[string(k.raw)]; ok {
		return
	}
	i := c.used
	if c.used < len(c.slots) {
		c.used++
	} else {
		for c.slots[c.hand].referenced.Swap(false) {
			c.hand = (c.hand + 1) % len(c.slots)
		}
		i = c.hand
		c.hand = (c.hand + 1) % len(c.slots)
		delete(c.index, string(c.slots[i].key.raw))
	}
	c.slots[i].key = k
	c.slots[i].referenced.Store(false)
	c.index[string(k.raw)] = i
}
