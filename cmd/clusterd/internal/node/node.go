// Package node assembles a running clusterd node from the workspace's
// pieces: the secure transport on one UDP socket, a Messenger over it,
// SWIM failure detection with signed gossip (membership/swim) whose keys
// the trust store vouches for, the member registry, and a placement of keys
// that follows liveness.
//
// Start binds the socket, starts SWIM, writes the node's registry record
// and joins through the seeds; Leave announces a graceful departure; Close
// stops everything without a word (what a crash looks like to the others).
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// Options is what a node is made of. clusterd run builds it from a
// configuration file (FromConfig); clusterd dev and tests build it in code.
type Options struct {
	// Identity is the node's key and certificate chain.
	Identity trust.Identity
	// Suite is the transport's algorithm suite; its signature schemes are
	// the ones certificates may use.
	Suite core.Suite
	// Trust verifies peers' certificate chains. Required.
	Trust *pki.TrustStore
	// RootsFile and RevocationLists are the files Trust was loaded from;
	// ReloadTrust reads them again (none: it only re-checks the peers).
	RootsFile       string
	RevocationLists []string
	// AllowList admits only peers listed in Registry; Pinned, when set,
	// only these NodeIDs.
	AllowList bool
	Pinned    []core.NodeID
	// Registry is the member registry; the node owns it from Start on and
	// closes it on Close.
	Registry *registry.Registry
	// Register writes the node's own record to Registry at start.
	Register bool

	// Conn is the socket to run on; when nil, Start binds UDP on Listen.
	Conn   core.PacketConn
	Listen string
	// Advertise is the address announced to the others (default: the
	// bound address, which must then not be a wildcard).
	Advertise netip.AddrPort
	// Seeds are the members to join through; JoinTimeout bounds the retries.
	Seeds       []config.Seed
	JoinTimeout time.Duration

	// Topology places the node and weighs it.
	Topology config.Topology
	// SWIM is the failure detector's timing; Start fills in its identity,
	// key resolver, metadata and events.
	SWIM swim.Config
	// Replicas is the number of owners a key has in the view.
	Replicas int

	// Clock drives SWIM (core.SystemClock when nil).
	Clock core.Clock
	// Logger receives the node's logs (discarded when nil).
	Logger *slog.Logger
	// Events, when set, sees every membership event after the node does.
	Events func(swim.Event)
	// TransportConfig, when set, adjusts the transport's configuration
	// before the endpoint starts (tests: a fake clock, fast timers).
	TransportConfig func(*transport.Config)
}

// Node is a running cluster member. It is safe for concurrent use.
type Node struct {
	opts     Options
	log      *slog.Logger
	started  time.Time
	addr     netip.AddrPort
	endpoint *transport.Endpoint
	msgr     *transport.Messenger
	swim     *swim.Node
	keys     *trust.Resolver
	views    *viewBuilder

	cancel context.CancelFunc
	wg     sync.WaitGroup

	reloading chan struct{} // holds a token while ReloadTrust runs
	closeOnce sync.Once
	leaveOnce sync.Once
	leaveErr  error
}

// Start brings a node up: it binds the socket, starts SWIM, registers the
// node and joins through the seeds, retrying them until JoinTimeout. On
// any failure everything started is stopped again, the registry closed.
func Start(ctx context.Context, o Options) (_ *Node, err error) {
	if err := o.check(); err != nil {
		o.Registry.Close()
		return nil, err
	}
	n := &Node{opts: o, log: o.Logger, started: time.Now(), reloading: make(chan struct{}, 1)}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := n.listen(); err != nil {
		return n, err
	}
	if err := n.startSWIM(); err != nil {
		return n, err
	}
	if err := n.register(ctx); err != nil {
		return n, err
	}
	if err := n.join(ctx); err != nil {
		return n, err
	}
	return n, nil
}

// check reports options Start cannot work with.
func (o *Options) check() error {
	switch {
	case o.Registry == nil:
		return fmt.Errorf("node: no registry: %w", core.ErrInvalidInput)
	case o.Trust == nil:
		return fmt.Errorf("node: no trust store: %w", core.ErrInvalidInput)
	case o.Identity.Signer == nil || len(o.Identity.Chain) == 0:
		return fmt.Errorf("node: no identity: %w", core.ErrInvalidInput)
	case o.Conn == nil && o.Listen == "":
		return fmt.Errorf("node: neither a socket nor a listen address: %w", core.ErrInvalidInput)
	}
	if err := o.Suite.Validate(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if _, err := membership.NewPlacement(nil, membership.PlacementConfig{Replicas: o.Replicas}); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// listen starts the transport endpoint and its messenger.
func (n *Node) listen() error {
	o := &n.opts
	policy := transport.PeerPolicy{Trust: o.Trust, Pinned: o.Pinned}
	if o.AllowList {
		policy.Members = o.Registry.Repo()
	}
	tc := transport.Config{Identity: o.Identity.Transport(), Suite: o.Suite, Policy: policy, Logger: n.log}
	if o.TransportConfig != nil {
		o.TransportConfig(&tc)
	}
	var err error
	if o.Conn != nil {
		n.endpoint, err = transport.Listen(o.Conn, tc)
	} else {
		n.endpoint, err = transport.ListenUDP(o.Listen, tc)
	}
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.msgr = transport.NewMessenger(n.endpoint, transport.MessengerConfig{Logger: n.log})
	n.addr = o.Advertise
	if !n.addr.IsValid() {
		bound, err := netip.ParseAddrPort(n.endpoint.LocalAddr().String())
		if err != nil {
			return fmt.Errorf("node: bound address %s: %w", n.endpoint.LocalAddr(), err)
		}
		n.addr = netip.AddrPortFrom(bound.Addr().Unmap(), bound.Port())
		if n.addr.Addr().IsUnspecified() {
			n.log.Warn("listening on a wildcard address without advertise: peers learn this node's address from its packets")
		}
	}
	return nil
}

// startSWIM starts failure detection and the view that follows it.
func (n *Node) startSWIM() error {
	o := &n.opts
	sc := o.SWIM
	sc.Signer = o.Identity.Signer
	rc := trust.ResolverConfig{Trust: o.Trust, Schemes: o.Suite.Signatures, Pinned: o.Pinned}
	if o.AllowList {
		rc.Members = o.Registry.Repo()
	}
	n.keys = trust.NewResolver(rc)
	sc.Keys = n.keys
	sc.Credential = o.Identity.Credential()
	sc.Meta = swim.Meta{
		Region: o.Topology.Region, Zone: o.Topology.Zone, Rack: o.Topology.Rack,
		Weight: max(o.Topology.Weight, 1), Labels: o.Topology.Labels,
	}
	if !n.addr.Addr().IsUnspecified() {
		sc.Meta.Addr = n.addr
	}
	sc.MaxDatagramSize = min(max(sc.MaxDatagramSize, 1), n.msgr.MaxDatagramSize())
	sc.Logger = n.log
	sc.Events = n.onEvent
	clock := o.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	// The builder reads n.swim only in build, after New has returned;
	// events before the first build only queue a request.
	n.views = newViewBuilder(func() []swim.MemberState { return n.swim.Members() }, membership.PlacementConfig{Replicas: o.Replicas}, n.onView)
	var err error
	if n.swim, err = swim.New(sc, n.msgr, clock); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.views.build()
	var ctx context.Context
	ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.views.run(ctx)
	}()
	return nil
}

// register writes the node's own record, or with the allow-list on checks
// that the operator listed it.
func (n *Node) register(ctx context.Context) error {
	o := &n.opts
	id := n.ID()
	if o.AllowList {
		if _, err := o.Registry.Repo().Get(ctx, id); err != nil {
			return fmt.Errorf("node: this node (%s) is not in the member registry, which the allow-list requires: %w", id, err)
		}
	}
	if !o.Register {
		return nil
	}
	m := core.Member{
		ID: id, Region: o.Topology.Region, Zone: o.Topology.Zone, Rack: o.Topology.Rack,
		Weight: max(o.Topology.Weight, 1), Labels: o.Topology.Labels, Certificate: o.Identity.Chain[0].Raw,
	}
	if !n.addr.Addr().IsUnspecified() {
		m.IP, m.Port = n.addr.Addr(), n.addr.Port()
	}
	if err := o.Registry.Register(ctx, m); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// onEvent logs a membership change, asks for a new view and passes the
// event on.
func (n *Node) onEvent(ev swim.Event) {
	level := slog.LevelInfo
	if ev.Kind == swim.EventSuspect || ev.Kind == swim.EventDead {
		level = slog.LevelWarn
	}
	n.log.Log(context.Background(), level, "member "+ev.Kind.String(), "member", ev.Member.ID.Short(),
		"state", ev.Member.State.String(), "addr", ev.Member.Meta.Addr.String(), "zone", ev.Member.Meta.Zone)
	n.views.request()
	if n.opts.Events != nil {
		n.opts.Events(ev)
	}
}

// onView logs a new view.
func (n *Node) onView(old, cur *View) {
	if old != nil {
		n.log.Info("placement view changed", "version", cur.Version, "members", len(cur.Members))
	}
}

// ID returns the node's NodeID.
func (n *Node) ID() core.NodeID { return n.opts.Identity.NodeID() }

// Addr returns the address the node announces.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// LocalAddr returns the socket's address.
func (n *Node) LocalAddr() net.Addr { return n.endpoint.LocalAddr() }

// Started returns when the node started.
func (n *Node) Started() time.Time { return n.started }

// Options returns the options the node runs with.
func (n *Node) Options() Options { return n.opts }

// Members returns SWIM's view of every member, the node included.
func (n *Node) Members() []swim.MemberState { return n.swim.Members() }

// View returns the current placement view.
func (n *Node) View() *View {
	v, _ := n.views.view()
	return v
}

// WaitView returns the first view for which ok holds, waiting for new views
// until ctx ends.
func (n *Node) WaitView(ctx context.Context, ok func(*View) bool) (*View, error) {
	for {
		v, changed := n.views.view()
		if ok(v) {
			return v, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}

// TransportMetrics returns the endpoint's counters.
func (n *Node) TransportMetrics() transport.Metrics { return n.endpoint.Metrics() }

// MessengerStats returns the messenger's counters.
func (n *Node) MessengerStats() transport.MessengerStats { return n.msgr.Stats() }

// SWIMStats returns the failure detector's counters.
func (n *Node) SWIMStats() swim.Stats { return n.swim.Stats() }

// Leave announces a graceful departure: a signed leave record pushed to a
// few members, then about one gossip round for it to spread, then the
// registry record (an etcd lease) is removed. The node keeps answering
// until Close. A node alone has nobody to tell, which is not an error.
func (n *Node) Leave(ctx context.Context) error {
	n.leaveOnce.Do(func() {
		alone := true
		for _, m := range n.swim.Members() {
			if m.ID != n.ID() && m.State == swim.StateAlive {
				alone = false
			}
		}
		if err := n.swim.Leave(ctx); err != nil && !alone {
			n.leaveErr = fmt.Errorf("node: leave: %w", err)
		}
		if !alone {
			wait := 2 * n.opts.SWIM.GossipInterval
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		if err := n.opts.Registry.Deregister(ctx); err != nil {
			n.leaveErr = errors.Join(n.leaveErr, err)
		}
	})
	return n.leaveErr
}

// Close stops the node without announcing anything: SWIM, the messenger,
// the transport (sessions are closed with a notice to each peer) and the
// registry. Peers that did not hear a Leave detect the silence.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.cancel != nil {
			n.cancel()
		}
		n.wg.Wait()
		if n.swim != nil {
			n.swim.Shutdown()
		}
		if n.msgr != nil {
			n.msgr.Close()
		}
		if n.endpoint != nil {
			n.endpoint.Close()
		}
		if err := n.opts.Registry.Close(); err != nil {
			n.log.Warn("closing the member registry", "err", err)
		}
	})
	return nil
}
