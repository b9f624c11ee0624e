package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/snowmerak/clustering/membership/swim"
)

// Validate checks every field and parses the seeds; the error names the
// first bad field as it is spelled in the file.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.Identity.Cert == "" {
		bad("identity.cert", "required (PEM certificate chain, leaf first)")
	}
	if c.Identity.Key == "" {
		bad("identity.key", "required (PEM private key)")
	}
	if c.Suite != "default" && c.Suite != "cnsa2" {
		bad("suite", "%q is not default or cnsa2", c.Suite)
	}
	if err := checkHostPort(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	if c.Advertise != "" {
		if ap, err := netip.ParseAddrPort(c.Advertise); err != nil || ap.Port() == 0 || ap.Addr().IsUnspecified() {
			bad("advertise", "%q is not an IP:port other members can reach", c.Advertise)
		}
	}
	c.seeds = c.seeds[:0]
	for i, s := range c.Seeds {
		seed, err := ParseSeed(s)
		if err != nil {
			bad(fmt.Sprintf("seeds[%d]", i), "%v", err)
			continue
		}
		c.seeds = append(c.seeds, seed)
	}
	if c.JoinTimeout < 0 {
		bad("join_timeout", "negative")
	}
	c.validateTopology(bad)
	c.validateRepo(bad)
	if c.Trust.Roots == "" {
		bad("trust.roots", "required (PEM file of trusted root certificates)")
	}
	if _, err := c.PinnedIDs(); err != nil {
		bad("trust.pinned", "%v", err)
	}
	if _, err := c.SWIMConfig(); err != nil {
		bad("swim", "%v", err)
	}
	if c.Placement.Replicas < 1 || c.Placement.Replicas > membership.MaxReplicas {
		bad("placement.replicas", "%d out of range 1..%d", c.Placement.Replicas, membership.MaxReplicas)
	}
	if err := admin.CheckPath(c.Admin.Socket); err != nil {
		bad("admin.socket", "%v", err)
	}
	if c.Metrics.Listen != "" {
		if err := checkHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%v", err)
		}
	}
	if _, err := c.LogLevel(); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		if errors.Is(err, core.ErrInvalidInput) {
			return err
		}
		return fmt.Errorf("%w: %w", err, core.ErrInvalidInput)
	}
	return nil
}

func (c *Config) validateTopology(bad func(field, format string, args ...any)) {
	t := c.Topology
	for field, v := range map[string]string{"topology.region": t.Region, "topology.zone": t.Zone, "topology.rack": t.Rack} {
		if len(v) > swim.MaxMetaString {
			bad(field, "longer than %d bytes", swim.MaxMetaString)
		}
	}
	if t.Weight < 0 || t.Weight > MaxWeight {
		bad("topology.weight", "%d out of range 0..%d", t.Weight, MaxWeight)
	}
	if len(t.Labels) > swim.MaxLabels {
		bad("topology.labels", "%d labels exceed %d", len(t.Labels), swim.MaxLabels)
	}
	for k, v := range t.Labels {
		if k == "" || len(k) > swim.MaxMetaString || len(v) > swim.MaxMetaString {
			bad("topology.labels", "label %q: empty key or longer than %d bytes", k, swim.MaxMetaString)
		}
	}
}

func (c *Config) validateRepo(bad func(field, format string, args ...any)) {
	r := c.Repo
	switch r.Kind {
	case RepoCSV:
		if r.CSV.PollInterval < 0 {
			bad("repo.csv.poll_interval", "negative")
		}
	case RepoEtcd:
		if len(r.Etcd.Endpoints) == 0 {
			bad("repo.etcd.endpoints", "required with kind etcd")
		}
		if r.TTL < time.Second {
			bad("repo.ttl", "%v is below etcd's 1s lease granularity", r.TTL)
		}
	case RepoMemory:
	default:
		bad("repo.kind", "%q is not csv, etcd or memory", r.Kind)
	}
	if c.Registers() && c.Trust.AllowList {
		bad("repo.register", "must be false with trust.allow_list: the operator keeps the registry, a node may not add itself")
	}
}

// PinnedIDs parses Trust.Pinned.
func (c *Config) PinnedIDs() ([]core.NodeID, error) {
	var ids []core.NodeID
	for _, s := range c.Trust.Pinned {
		id, err := core.ParseNodeID(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// LogLevel returns Log.Level as a slog level.
func (c *Config) LogLevel() (slog.Level, error) {
	var l slog.Level
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
		return l, l.UnmarshalText([]byte(c.Log.Level))
	}
	return l, fmt.Errorf("%q is not debug, info, warn or error", c.Log.Level)
}

// checkHostPort accepts "host:port" with a numeric port (host may be empty
// for every interface).
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", s, port)
	}
	return nil
}
