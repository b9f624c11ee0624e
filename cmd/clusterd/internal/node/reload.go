package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
)

// reloadStepTimeout bounds each step of ReloadTrust that may wait on the
// member registry: re-checking the sessions, and the members' keys.
const reloadStepTimeout = 20 * time.Second

// Reloaded reports what ReloadTrust did.
type Reloaded struct {
	// Trust is what the trust store holds now (zero when no files are
	// configured).
	Trust trust.Reloaded
	// ClosedSessions counts the sessions closed because their peer no
	// longer passes the policy.
	ClosedSessions int
	// Evicted counts the members declared dead because their gossip key
	// (their certificate chain) is now refused.
	Evicted int
}

// ReloadTrust applies changed trust material while the node runs, which
// is how a revocation takes effect without a restart (clusterd reload, or
// SIGHUP to clusterd run): it reads RootsFile and RevocationLists again
// into the trust store (trust.Reload: newer lists only, roots that still
// vouch for this node), forgets the members' verified gossip keys, closes
// each session whose peer no longer passes the policy, and declares dead
// each member whose chain is now refused, so it leaves this node's view
// (swim.Node.Recheck). The steps after a failed file still run; the
// failures are returned joined.
func (n *Node) ReloadTrust(ctx context.Context) (Reloaded, error) {
	// One reload at a time (SIGHUP and the admin socket may race); a
	// caller that gives up while waiting changes nothing.
	select {
	case n.reloading <- struct{}{}:
	case <-ctx.Done():
		return Reloaded{}, fmt.Errorf("node: reload: waiting for the reload in progress: %w", ctx.Err())
	}
	defer func() { <-n.reloading }()
	o := &n.opts
	var r Reloaded
	var errs []error
	if o.RootsFile != "" {
		var err error
		r.Trust, err = trust.Reload(o.Trust, o.Identity, o.RootsFile, o.RevocationLists, time.Now())
		if err != nil {
			errs = append(errs, err)
		}
	}
	n.keys.Flush()
	// Each step has its own budget, so a slow member registry in one does
	// not leave the other undone.
	step, cancel := context.WithTimeout(ctx, reloadStepTimeout)
	closed, err := n.endpoint.Revalidate(step)
	cancel()
	r.ClosedSessions = closed
	if err != nil {
		errs = append(errs, err)
	}
	step, cancel = context.WithTimeout(ctx, reloadStepTimeout)
	evicted, err := n.swim.Recheck(step)
	cancel()
	r.Evicted = len(evicted)
	if err != nil {
		errs = append(errs, err)
	}
	n.log.Info("trust reloaded", "roots", r.Trust.Roots, "revocation_lists", r.Trust.RevocationLists,
		"revoked", r.Trust.Revoked, "closed_sessions", closed, "evicted", r.Evicted, "err", errors.Join(errs...))
	return r, errors.Join(errs...)
}
