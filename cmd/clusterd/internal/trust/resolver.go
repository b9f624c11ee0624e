package trust

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/pki"
)

// Resolver defaults.
const (
	// DefaultCacheSize bounds the verified keys a Resolver keeps.
	DefaultCacheSize = 4096
	// DefaultCacheTTL is how long a verified key is trusted before its
	// chain and registry entry are checked again, so a member removed from
	// the registry, or a chain that expires, stops being accepted.
	DefaultCacheTTL = time.Minute
)

// ResolverConfig configures NewResolver.
type ResolverConfig struct {
	// Trust verifies credentials (certificate chains). Required.
	Trust *pki.TrustStore
	// Schemes are the signature schemes certificates may use. Required.
	Schemes []core.SignatureScheme
	// Members, when set, is the allow-list: a NodeID must be in it.
	Members core.MemberRepo
	// Pinned, when set, admits only these NodeIDs.
	Pinned []core.NodeID
	// Now is the verification time (time.Now when nil).
	Now func() time.Time
	// CacheSize and CacheTTL bound the cache (DefaultCacheSize, DefaultCacheTTL).
	CacheSize int
	CacheTTL  time.Duration
}

// Resolver is the swim.KeyResolver of a clusterd node: a member's key is the
// leaf key of its certificate chain (the credential of its alive records),
// once the chain verifies against the trust store at the current time,
// names the member (its leaf's NodeID is the member's) and the member passes
// the allow-list and pinned IDs when configured. Results are cached per
// NodeID and credential for CacheTTL. Safe for concurrent use.
type Resolver struct {
	cfg ResolverConfig

	mu    sync.Mutex
	cache map[core.NodeID]cached
	gen   uint64 // Flush count: a verification begun before a Flush is not cached
}

// cached is a verified key and what it was verified from.
type cached struct {
	credential [32]byte // SHA-256 of the credential
	key        core.PublicKey
	expires    time.Time
}

var _ swim.KeyResolver = (*Resolver)(nil)

// NewResolver returns a resolver; it panics without a trust store, since
// nothing could be verified.
func NewResolver(cfg ResolverConfig) *Resolver {
	if cfg.Trust == nil || len(cfg.Schemes) == 0 {
		panic("trust: NewResolver needs a trust store and signature schemes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	return &Resolver{cfg: cfg, cache: make(map[core.NodeID]cached)}
}

// ResolveKey returns id's verified key. With a credential, the credential
// is verified (or found in the cache); without one, only a cached key of id
// serves. Unknown members wrap core.ErrNotFound; refused ones, and
// credentials that do not parse, core.ErrVerification.
func (r *Resolver) ResolveKey(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error) {
	now := r.cfg.Now()
	var sum [32]byte
	if len(credential) > 0 {
		sum = sha256.Sum256(credential)
	}
	r.mu.Lock()
	c, ok := r.cache[id]
	gen := r.gen
	r.mu.Unlock()
	if ok && now.Before(c.expires) && (len(credential) == 0 || c.credential == sum) {
		return c.key, nil
	}
	if len(r.cfg.Pinned) > 0 && !slices.Contains(r.cfg.Pinned, id) {
		return nil, fmt.Errorf("trust: member %s is not among the pinned IDs: %w", id.Short(), core.ErrVerification)
	}
	if len(credential) == 0 {
		return nil, fmt.Errorf("trust: member %s: no credential to verify its key: %w", id.Short(), core.ErrNotFound)
	}
	// The chain first: it needs no I/O, so a registry that does not answer
	// cannot hide a revoked or foreign chain behind a temporary error.
	ders, err := SplitCredential(credential)
	if err != nil {
		return nil, refused(id, err)
	}
	key, notAfter, err := r.verify(id, ders, now)
	if err != nil {
		return nil, err
	}
	if r.cfg.Members != nil {
		if _, err := r.cfg.Members.Get(ctx, id); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				return nil, fmt.Errorf("trust: member %s is not in the member registry (allow-list): %w", id.Short(), core.ErrNotFound)
			}
			return nil, fmt.Errorf("trust: member %s: registry: %w", id.Short(), err)
		}
	}
	r.remember(gen, id, cached{credential: sum, key: key, expires: minTime(now.Add(r.cfg.CacheTTL), notAfter)})
	return key, nil
}

// verify checks a chain for id and returns the leaf key and the earliest
// expiry in the verified path.
func (r *Resolver) verify(id core.NodeID, ders [][]byte, now time.Time) (core.PublicKey, time.Time, error) {
	chain, err := r.cfg.Trust.ParseChain(ders, r.cfg.Schemes)
	if err != nil {
		return nil, time.Time{}, refused(id, fmt.Errorf("credential: %w", err))
	}
	if leaf := chain[0]; leaf.NodeID() != id {
		return nil, time.Time{}, fmt.Errorf("trust: member %s presented the certificate of %s (CN=%q): %w", id.Short(), leaf.NodeID().Short(), leaf.Subject.CommonName, core.ErrVerification)
	}
	path, err := r.cfg.Trust.Verify(chain, pki.VerifyOptions{Now: now})
	if err != nil {
		return nil, time.Time{}, refused(id, err)
	}
	notAfter := path[0].NotAfter
	for _, c := range path[1:] {
		notAfter = minTime(notAfter, c.NotAfter)
	}
	return chain[0].PublicKey, notAfter, nil
}

// refused reports id's credential as one that does not verify: as
// swim.KeyResolver requires, the error wraps core.ErrVerification, and err
// too (core.ErrInvalidInput for a malformed credential, pki's reasons).
func refused(id core.NodeID, err error) error {
	if errors.Is(err, core.ErrVerification) {
		return fmt.Errorf("trust: member %s: %w", id.Short(), err)
	}
	return fmt.Errorf("trust: member %s: %w (%w)", id.Short(), err, core.ErrVerification)
}

// Flush forgets every verified key, so each member's chain is checked again
// against the trust store as it is now: call it after the store changed
// (a revocation list installed, a root removed).
func (r *Resolver) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.cache)
	r.gen++
}

// remember caches a verified key, unless the cache was flushed since the
// verification began (generation gen), making room by dropping expired
// entries, then arbitrary ones.
func (r *Resolver) remember(gen uint64, id core.NodeID, c cached) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen {
		return
	}
	if _, ok := r.cache[id]; !ok && len(r.cache) >= r.cfg.CacheSize {
		now := r.cfg.Now()
		for k, v := range r.cache {
			if !now.Before(v.expires) {
				delete(r.cache, k)
			}
		}
		for k := range r.cache {
			if len(r.cache) < r.cfg.CacheSize {
				break
			}
			delete(r.cache, k)
		}
	}
	r.cache[id] = c
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
