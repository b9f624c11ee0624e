package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Join retry backoff: the first retry after joinRetryMin, doubling up to
// joinRetryMax, until Options.JoinTimeout.
const (
	joinRetryMin = 250 * time.Millisecond
	joinRetryMax = 5 * time.Second
)

// join meets the cluster through the seeds, retrying until JoinTimeout:
// seeds that start at the same time as this node get a moment to come up.
// A node without seeds (other than itself) starts a cluster of its own.
func (n *Node) join(ctx context.Context) error {
	if len(n.opts.Seeds) == 0 {
		n.log.Info("no seeds: starting a new cluster", "id", n.ID().String(), "addr", n.addr.String())
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.opts.JoinTimeout)
	defer cancel()
	wait := joinRetryMin
	var lastErr error
	for attempt := 1; ; attempt++ {
		peers, err := n.resolveSeeds(ctx)
		if err == nil && len(peers) == 0 {
			n.log.Info("every seed is this node: starting a new cluster")
			return nil
		}
		if err == nil {
			var ok int
			if ok, err = n.swim.Join(ctx, peers); err == nil {
				n.log.Info("joined the cluster", "seeds answering", ok, "attempt", attempt)
				n.views.request()
				return nil
			}
		}
		lastErr = err
		n.log.Debug("join attempt failed", "attempt", attempt, "err", err)
		select {
		case <-time.After(wait):
			wait = min(2*wait, joinRetryMax)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("node: join: no seed answered within %v: %w", n.opts.JoinTimeout, lastErr)
			}
			return fmt.Errorf("node: join: %w", ctx.Err())
		}
	}
}

// resolveSeeds looks the seeds' host names up and leaves this node out.
func (n *Node) resolveSeeds(ctx context.Context) ([]core.Peer, error) {
	var peers []core.Peer
	var errs []error
	for _, s := range n.opts.Seeds {
		if s.ID == n.ID() {
			continue
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", s.Host)
		if err != nil || len(ips) == 0 {
			errs = append(errs, fmt.Errorf("seed %s: %w", s, err))
			continue
		}
		addr := netip.AddrPortFrom(ips[0].Unmap(), s.Port)
		if addr == n.addr {
			continue
		}
		peers = append(peers, core.Peer{ID: s.ID, Addr: addr})
	}
	if len(peers) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return peers, nil
}
