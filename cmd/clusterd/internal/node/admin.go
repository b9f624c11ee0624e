package node

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
	"github.com/snowmerak/clustering/membership/swim"
)

// registryListTimeout bounds the registry listing a status answer includes.
const registryListTimeout = 2 * time.Second

// Admin returns the node as the admin socket's source.
func (n *Node) Admin() admin.Source { return adminSource{n} }

type adminSource struct{ n *Node }

// Reload applies changed trust files (Node.ReloadTrust).
func (a adminSource) Reload(ctx context.Context) (admin.Reload, error) {
	r, err := a.n.ReloadTrust(ctx)
	return admin.Reload{
		Roots: r.Trust.Roots, RevocationLists: r.Trust.RevocationLists, Revoked: r.Trust.Revoked,
		ClosedSessions: r.ClosedSessions, Evicted: r.Evicted,
	}, err
}

// Members lists SWIM's members with their share of the current view.
func (a adminSource) Members() []admin.Member {
	n := a.n
	shares := n.View().Partitions()
	var out []admin.Member
	for _, m := range n.Members() {
		am := admin.Member{
			ID: m.ID.String(), Self: m.ID == n.ID(), State: m.State.String(), Incarnation: m.Incarnation,
			Region: m.Meta.Region, Zone: m.Meta.Zone, Rack: m.Meta.Rack, Weight: m.Meta.Weight,
			Labels: m.Meta.Labels, RTT: admin.Duration(m.RTT), Since: m.Since, Partitions: shares[m.ID],
		}
		if m.Meta.Addr.IsValid() {
			am.Addr = m.Meta.Addr.String()
		}
		if am.Self {
			am.Addr = n.Addr().String()
		}
		out = append(out, am)
	}
	return out
}

// Status summarises the node, its view and its transport.
func (a adminSource) Status() admin.Status {
	n := a.n
	o := n.opts
	counts := map[string]int{}
	for _, s := range []swim.State{swim.StateAlive, swim.StateSuspect, swim.StateDead, swim.StateLeft} {
		counts[s.String()] = 0
	}
	for _, m := range n.Members() {
		counts[m.State.String()]++
	}
	v := n.View()
	shares := v.Partitions()
	owners := make([]admin.Ownership, 0, len(shares))
	for _, m := range v.Members {
		owners = append(owners, admin.Ownership{ID: m.ID.String(), Partitions: shares[m.ID], Share: float64(shares[m.ID]) / float64(v.Placement.Partitions())})
	}
	slices.SortFunc(owners, func(x, y admin.Ownership) int { return bytes.Compare([]byte(x.ID), []byte(y.ID)) })
	tm := n.TransportMetrics()
	var failures uint64
	for _, c := range tm.HandshakeFailures {
		failures += c
	}
	st := admin.Status{
		ID: n.ID().String(), Addr: n.Addr().String(),
		Region: o.Topology.Region, Zone: o.Topology.Zone, Rack: o.Topology.Rack, Weight: max(o.Topology.Weight, 1),
		Suite: o.Suite.Name, Uptime: admin.Duration(time.Since(n.started).Round(time.Millisecond)),
		Members:   counts,
		Placement: admin.Placement{Version: v.Version, Replicas: v.Placement.Replicas(), Partitions: v.Placement.Partitions(), Owners: owners},
		Sessions:  tm.Sessions, Handshakes: tm.HandshakesCompleted, HandshakeFailures: failures,
		Registry: o.Registry.Kind(), RegistryMembers: -1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryListTimeout)
	defer cancel()
	if ms, _, err := o.Registry.Repo().List(ctx); err == nil {
		st.RegistryMembers = len(ms)
	}
	return st
}
