package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
)

// registryTimeout bounds one registry command.
const registryTimeout = 30 * time.Second

func runAdmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd admit", "-config FILE -cert FILE [-region R -zone Z -rack K -weight W -addr IP:PORT] [-replace]",
		"Writes a node's record into the member registry of a configuration (its\nrepo: a CSV file or etcd), which is how an operator admits a node when\ntrust.allow_list is on. The certificate (the chain cpki leaf or cpki sign\nwrote) must verify against the configuration's trust roots and revocation\nlists. Nodes reading a CSV registry see the record within its poll interval.", stderr)
	path := fs.String("config", "clusterd.yaml", "a node configuration `file` naming the registry and the trust roots")
	certPath := fs.String("cert", "", "the admitted node's certificate chain `file` (PEM, leaf first)")
	var topo config.Topology
	fs.StringVar(&topo.Region, "region", "", "the node's region")
	fs.StringVar(&topo.Zone, "zone", "", "the node's zone")
	fs.StringVar(&topo.Rack, "rack", "", "the node's rack")
	fs.IntVar(&topo.Weight, "weight", 1, "the node's placement weight (1..10000)")
	addr := fs.String("addr", "", "the node's `IP:port`, if known (it announces its own)")
	replace := fs.Bool("replace", false, "replace the node's record if there is one")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	if *certPath == "" {
		return errors.New("-cert is required")
	}
	if topo.Weight < 1 || topo.Weight > config.MaxWeight {
		return fmt.Errorf("-weight %d: want 1..%d", topo.Weight, config.MaxWeight)
	}
	m := core.Member{Region: topo.Region, Zone: topo.Zone, Rack: topo.Rack, Weight: topo.Weight}
	if *addr != "" {
		ap, err := netip.ParseAddrPort(*addr)
		if err != nil || ap.Port() == 0 || ap.Addr().IsUnspecified() {
			return fmt.Errorf("-addr %q: want the IP:port other members reach the node at", *addr)
		}
		m.IP, m.Port = ap.Addr(), ap.Port()
	}
	c, err := loadRegistryConfig(*path)
	if err != nil {
		return err
	}
	chain, err := trust.LoadChain(*certPath)
	if err != nil {
		return fmt.Errorf("-cert: %w", err)
	}
	now := time.Now()
	ts, err := trust.LoadTrustStore(c.Trust.Roots, c.Trust.RevocationLists, now)
	if err != nil {
		return err
	}
	if err := trust.VerifyNodeChain(ts, chain, now); err != nil {
		return fmt.Errorf("-cert %s: the chain %w", *certPath, err)
	}
	if err := trust.CheckSuite(trust.Suite(c.Suite), chain); err != nil {
		return fmt.Errorf("-cert %s: %w", *certPath, err)
	}
	m.ID, m.Certificate = chain[0].NodeID(), chain[0].Raw
	expect := int64(0)
	if *replace {
		expect = core.AnyRevision
	}
	err = withRegistry(ctx, c, func(ctx context.Context, r *registry.Registry) error {
		_, err := r.Repo().Put(ctx, m, expect)
		return err
	})
	if errors.Is(err, core.ErrConflict) {
		return fmt.Errorf("%s is in the registry already (-replace replaces its record)", m.ID)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admitted %s (%s) to the %s registry.\n", m.ID, cliutil.EscapeControls(chain[0].Subject.String()), c.Repo.Kind)
	return nil
}

func runEvict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd evict", "-config FILE -id NODEID",
		"Removes a node's record from the member registry of a configuration. With\ntrust.allow_list on, nodes then refuse it: new sessions at once, existing ones\nat their next rekey or when each node runs clusterd reload. To stop trusting\nits certificate everywhere, revoke it (cpki revoke) instead or as well.", stderr)
	path := fs.String("config", "clusterd.yaml", "a node configuration `file` naming the registry")
	idText := fs.String("id", "", "the evicted node's NodeID (64 hex digits, as clusterd members -json or cpki print shows it)")
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	id, err := core.ParseNodeID(*idText)
	if err != nil {
		return fmt.Errorf("-id: %w", err)
	}
	c, err := loadRegistryConfig(*path)
	if err != nil {
		return err
	}
	err = withRegistry(ctx, c, func(ctx context.Context, r *registry.Registry) error {
		_, err := r.Repo().Delete(ctx, id, core.AnyRevision)
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return fmt.Errorf("%s is not in the registry", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Evicted %s from the %s registry.\n", id, c.Repo.Kind)
	return nil
}

// loadRegistryConfig loads a configuration whose registry outlives a node.
func loadRegistryConfig(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if c.Repo.Kind == config.RepoMemory {
		return nil, fmt.Errorf("config %s: repo.kind memory lives inside each node; admit and evict work on a csv or etcd registry", path)
	}
	return c, nil
}

// withRegistry opens c's registry, runs fn within registryTimeout and
// closes it.
func withRegistry(ctx context.Context, c *config.Config, fn func(context.Context, *registry.Registry) error) error {
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	r, err := registry.Open(ctx, c.Repo, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if err := fn(ctx, r); err != nil {
		r.Close()
		return fmt.Errorf("registry: %w", err)
	}
	return r.Close()
}
