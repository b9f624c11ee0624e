// Package registry opens the member registry a clusterd node is configured
// with — a CSV file (the default), etcd or memory — and writes the node's
// own record there: a plain record in a CSV file or in memory, a record
// tied to a lease in etcd, so that a node that dies leaves the registry by
// itself once the lease runs out.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/core"
)

// Registry is an open member repository.
type Registry struct {
	kind   string
	repo   core.MemberRepo
	closer func() error
	etcd   *etcdrepo.Repo
	ttl    time.Duration

	// life bounds the etcd registration's keep-alive.
	life   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	reg    *etcdrepo.Registration
}

// Open opens the repository c describes.
func Open(ctx context.Context, c config.Repo, log *slog.Logger) (*Registry, error) {
	r := &Registry{kind: c.Kind, ttl: c.TTL}
	switch c.Kind {
	case config.RepoCSV:
		var opts []csvrepo.Option
		if c.CSV.PollInterval > 0 {
			opts = append(opts, csvrepo.WithPollInterval(c.CSV.PollInterval))
		}
		repo, err := csvrepo.Open(c.CSV.Path, opts...)
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		r.repo, r.closer = repo, repo.Close
	case config.RepoEtcd:
		ec := c.Etcd
		if ec.Logger == nil {
			ec.Logger = log
		}
		repo, err := etcdrepo.Open(ctx, ec)
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		r.repo, r.closer, r.etcd = repo, repo.Close, repo
	case config.RepoMemory:
		repo := memrepo.New()
		r.repo, r.closer = repo, repo.Close
	default:
		return nil, fmt.Errorf("registry: unknown kind %q: %w", c.Kind, core.ErrInvalidInput)
	}
	r.life, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Wrap makes a Registry of a repository the caller owns (Close leaves it
// open), such as one memory registry shared by the nodes of "clusterd dev".
func Wrap(repo core.MemberRepo) *Registry {
	r := &Registry{kind: config.RepoMemory, repo: repo, closer: func() error { return nil }}
	r.life, r.cancel = context.WithCancel(context.Background())
	return r
}

// Kind returns "csv", "etcd" or "memory".
func (r *Registry) Kind() string { return r.kind }

// Repo returns the repository.
func (r *Registry) Repo() core.MemberRepo { return r.repo }

// Register writes m as the node's own record, replacing any earlier one. In
// etcd the record lives under a lease of the configured TTL, kept alive
// until Deregister or Close.
func (r *Registry) Register(ctx context.Context, m core.Member) error {
	if r.etcd != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.reg != nil {
			return fmt.Errorf("registry: %s is registered already: %w", m.ID.Short(), core.ErrInvalidInput)
		}
		reg, err := r.etcd.Register(r.life, m, r.ttl)
		if err != nil {
			return fmt.Errorf("registry: %w", err)
		}
		r.reg = reg
		return nil
	}
	if _, err := r.repo.Put(ctx, m, core.AnyRevision); err != nil {
		return fmt.Errorf("registry: register %s: %w", m.ID.Short(), err)
	}
	return nil
}

// Deregister removes an etcd registration at once (a graceful leave). The
// record in a CSV file or in memory stays: it says the node belongs to the
// fleet, while membership says whether it is up.
func (r *Registry) Deregister(ctx context.Context) error {
	r.mu.Lock()
	reg := r.reg
	r.reg = nil
	r.mu.Unlock()
	if reg == nil {
		return nil
	}
	if err := reg.Deregister(ctx); err != nil {
		return fmt.Errorf("registry: deregister: %w", err)
	}
	return nil
}

// Close stops any registration's keep-alive and closes the repository.
func (r *Registry) Close() error {
	r.cancel()
	r.mu.Lock()
	reg := r.reg
	r.mu.Unlock()
	if reg != nil {
		<-reg.Done()
	}
	if err := r.closer(); err != nil {
		return fmt.Errorf("registry: close: %w", err)
	}
	return nil
}
