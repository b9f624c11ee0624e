package etcdrepo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/core"
)

// ErrLeaseLost reports that a registration's lease expired or was revoked
// while it was being kept alive, so its member record is gone.
var ErrLeaseLost = errors.New("etcdrepo: registration lease lost")

// Registration is a member record tied to an etcd lease that is kept alive
// until the registering context ends, Deregister is called or the
// repository closes. When keep-alives stop, etcd deletes the record once
// the TTL runs out, so a node that dies leaves the registry by itself.
type Registration struct {
	lease  clientv3.LeaseID
	rev    int64
	repo   *Repo
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu  sync.Mutex
	err error
}

// errDeregistered is the cancel cause of a Deregister call.
var errDeregistered = errors.New("deregistered")

// Register stores m (unconditionally, replacing any record for m.ID) under a
// new lease of the given TTL, rounded up to whole seconds as etcd counts
// them, and keeps the lease alive in the background until ctx ends,
// Deregister is called or the repository closes. A member put again with
// Put keeps the lease.
func (r *Repo) Register(ctx context.Context, m core.Member, ttl time.Duration) (*Registration, error) {
	if ttl < time.Second {
		return nil, fmt.Errorf("etcdrepo: register %s: TTL %v below etcd's 1s granularity: %w", m.ID.Short(), ttl, core.ErrInvalidInput)
	}
	val, err := encodeMember(m)
	if err != nil {
		return nil, fmt.Errorf("etcdrepo: register %s: %w", m.ID.Short(), err)
	}
	octx, cancel, err := r.begin(ctx, "register")
	if err != nil {
		return nil, err
	}
	defer cancel()
	secs := int64((ttl + time.Second - 1) / time.Second)
	grant, err := r.cli.Grant(octx, secs)
	if err != nil {
		return nil, r.fail("register "+m.ID.Short()+": grant lease", err)
	}
	put, err := r.cli.Put(octx, memberKey(r.prefix, m.ID), string(val), clientv3.WithLease(grant.ID))
	if err != nil {
		// Best effort: an orphan lease holds no key and expires after ttl anyway.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.RequestTimeout)
		_, _ = r.cli.Revoke(rctx, grant.ID)
		rcancel()
		return nil, r.fail("register "+m.ID.Short(), err)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("etcdrepo: register %s: %w", m.ID.Short(), core.ErrClosed)
	}
	kctx, kcancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(r.root, func() { kcancel(core.ErrClosed) })
	ka, err := r.cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		stop()
		kcancel(err)
		return nil, r.fail("register "+m.ID.Short()+": keep lease alive", err)
	}
	g := &Registration{lease: grant.ID, rev: put.Header.Revision, repo: r, cancel: kcancel, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer stop()
		for range ka {
			// Each response is a renewed TTL; the channel closes when
			// keep-alives stop, for whatever reason.
		}
		g.finish(kctx)
	}()
	return g, nil
}

// finish records why keep-alives stopped and closes Done.
func (g *Registration) finish(kctx context.Context) {
	var err error
	switch cause := context.Cause(kctx); {
	case cause == nil:
		err = ErrLeaseLost
	case errors.Is(cause, errDeregistered):
	case errors.Is(cause, core.ErrClosed):
		err = fmt.Errorf("etcdrepo: registration: %w", core.ErrClosed)
	default:
		err = cause
	}
	g.mu.Lock()
	g.err = err
	g.mu.Unlock()
	close(g.done)
}

// LeaseID returns the ID of the etcd lease the record is attached to (as
// etcdctl lease commands show it, in hex).
func (g *Registration) LeaseID() int64 { return int64(g.lease) }

// Revision returns the revision at which the member was registered.
func (g *Registration) Revision() int64 { return g.rev }

// Done is closed when keep-alives stop.
func (g *Registration) Done() <-chan struct{} { return g.done }

// Err returns nil while keep-alives run or after Deregister; otherwise, once
// Done is closed, why they stopped: the context's error, an error wrapping
// core.ErrClosed, or ErrLeaseLost.
func (g *Registration) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Deregister stops the keep-alives and revokes the lease, which deletes the
// member record at once. Deregistering a lease that already expired is not
// an error. Without a deadline on ctx, the call is bounded by the
// repository's RequestTimeout.
func (g *Registration) Deregister(ctx context.Context) error {
	g.cancel(errDeregistered)
	<-g.done
	ctx, cancel, err := g.repo.begin(ctx, "deregister")
	if err != nil {
		return err
	}
	defer cancel()
	if _, err := g.repo.cli.Revoke(ctx, g.lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return g.repo.fail(fmt.Sprintf("deregister: revoke lease %x", int64(g.lease)), err)
	}
	return nil
}
