package swim

import (
	"context"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// KeyResolver tells a Node which public key speaks for a NodeID, and whether
// that node is allowed in the cluster at all. Every record is verified with the
// key its issuer resolves to before it is applied; the Node also checks that
// the key hashes to the NodeID (core.NodeIDOf), so a resolver cannot map one
// node's ID to another's key by mistake.
//
// clusterd wires this to its trust store and member registry: the credential
// of an alive record is the member's certificate chain, verified against the
// trust store. Implementations are called without the Node's lock held, once
// per distinct record they vouch for; a record whose issuer does not resolve
// is resolved again whenever it is received again (the answer may change:
// a certificate becomes valid, an operator lists the member, a registry
// answers again), so they should cache expensive checks themselves.
type KeyResolver interface {
	// ResolveKey returns the verified public key of id. credential is the
	// credential of id's own alive record when the Node holds one (nil
	// otherwise). An unknown node is an error wrapping core.ErrNotFound, a
	// credential that fails to verify one wrapping core.ErrVerification.
	ResolveKey(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error)
}

// KeyResolverFunc adapts a function to KeyResolver.
type KeyResolverFunc func(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error)

// ResolveKey calls f.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, id core.NodeID, credential []byte) (core.PublicKey, error) {
	return f(ctx, id, credential)
}

// StaticKeys is a KeyResolver over a fixed allow-list of public keys, keyed by
// NodeID: for tests and for small clusters whose membership is configured.
type StaticKeys map[core.NodeID]core.PublicKey

// NewStaticKeys returns the allow-list of keys, each under its NodeID.
func NewStaticKeys(keys ...core.PublicKey) StaticKeys {
	s := make(StaticKeys, len(keys))
	for _, k := range keys {
		s[core.NodeIDOf(k)] = k
	}
	return s
}

// ResolveKey returns the listed key of id, ignoring credential.
func (s StaticKeys) ResolveKey(_ context.Context, id core.NodeID, _ []byte) (core.PublicKey, error) {
	if k, ok := s[id]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("swim: key of %s: not in the allow-list: %w", id.Short(), core.ErrNotFound)
}
