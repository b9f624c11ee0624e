package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

// FromConfig builds a node's options from its configuration file: it loads
// and cross-checks the identity (the key must be the certificate's, the
// chain must verify against the roots, its algorithm must be the suite's),
// loads the trust store and opens the registry. Each failure is one error
// that names the file or field at fault.
func FromConfig(ctx context.Context, c *config.Config, log *slog.Logger) (Options, error) {
	o := Options{
		Listen: c.Listen, Seeds: c.ParsedSeeds(), JoinTimeout: c.JoinTimeout,
		AllowList: c.Trust.AllowList, Register: c.Registers(),
		Topology: c.Topology, Replicas: c.Placement.Replicas, Logger: log,
		RootsFile: c.Trust.Roots, RevocationLists: c.Trust.RevocationLists,
	}
	o.Suite = trust.Suite(c.Suite)
	var err error
	if o.SWIM, err = c.SWIMConfig(); err != nil {
		return o, fmt.Errorf("swim: %w", err)
	}
	if o.Pinned, err = c.PinnedIDs(); err != nil {
		return o, fmt.Errorf("trust.pinned: %w", err)
	}
	if c.Advertise != "" {
		o.Advertise = netip.MustParseAddrPort(c.Advertise) // validated by config
	}
	pass := cliutil.Passphrase{File: c.Identity.PassphraseFile, Env: c.Identity.PassphraseEnv, Prompt: "Node key passphrase"}
	if o.Identity, err = trust.LoadIdentity(c.Identity.Cert, c.Identity.Key, pass); err != nil {
		return o, err
	}
	if err := trust.CheckSuite(o.Suite, o.Identity.Chain); err != nil {
		return o, fmt.Errorf("identity: %w", err)
	}
	now := time.Now()
	if o.Trust, err = trust.LoadTrustStore(c.Trust.Roots, c.Trust.RevocationLists, now); err != nil {
		return o, err
	}
	if err := o.Identity.Verify(o.Trust, now); err != nil {
		return o, err
	}
	if o.Registry, err = registry.Open(ctx, c.Repo, log); err != nil {
		return o, err
	}
	return o, nil
}
