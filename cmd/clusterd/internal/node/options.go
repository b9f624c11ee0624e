package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
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
	switch c.Suite {
	case "cnsa2":
		o.Suite = pqc.CNSA2Suite()
	default:
		o.Suite = pqc.DefaultSuite()
	}
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
	if scheme := o.Identity.Signer.Scheme(); !acceptsScheme(o.Suite, scheme) {
		return o, fmt.Errorf("identity: the key is %s, which suite %q does not accept (%s): %w", scheme.Name(), o.Suite.Name, schemeNames(o.Suite), core.ErrInvalidInput)
	}
	if err := checkChainSchemes(o.Suite, o.Identity.Chain); err != nil {
		return o, err
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

// checkChainSchemes reports a certificate of chain signed with a scheme
// suite does not accept: peers check every signature of the chain under the
// suite, the root's on the last certificate included, and would refuse it.
func checkChainSchemes(suite core.Suite, chain []*pki.Certificate) error {
	for i, c := range chain {
		if !acceptsScheme(suite, c.SignatureScheme) {
			return fmt.Errorf("identity: certificate %d (%s) is signed with %s, which suite %q does not accept (%s): every certificate up to the root must use it: %w",
				i, c.Subject.String(), c.SignatureScheme.Name(), suite.Name, schemeNames(suite), core.ErrInvalidInput)
		}
	}
	return nil
}

// schemeNames lists the signature schemes s accepts.
func schemeNames(s core.Suite) string {
	names := make([]string, len(s.Signatures))
	for i, sc := range s.Signatures {
		names[i] = sc.Name()
	}
	return strings.Join(names, ", ")
}

func acceptsScheme(s core.Suite, scheme core.SignatureScheme) bool {
	_, ok := s.SchemeByOID(scheme.OID())
	return ok
}
