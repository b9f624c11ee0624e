package config

import (
	"fmt"
	"time"

	"github.com/snowmerak/clustering/membership/swim"
)

// SWIMConfig returns the timing of the selected profile with the file's
// overrides applied. Identity fields (Signer, Keys, Meta, ...) are left for
// the caller.
func (c *Config) SWIMConfig() (swim.Config, error) {
	var sc swim.Config
	switch c.SWIM.Profile {
	case "lan":
		sc = swim.DefaultLANConfig()
	case "wan":
		sc = swim.DefaultWANConfig()
	case "local":
		sc = swim.DefaultLocalConfig()
	default:
		return sc, fmt.Errorf("profile %q is not lan, wan or local", c.SWIM.Profile)
	}
	s := c.SWIM
	for _, o := range []struct {
		name string
		neg  bool
	}{
		{"probe_interval", s.ProbeInterval < 0}, {"probe_timeout", s.ProbeTimeout < 0},
		{"indirect_checks", s.IndirectChecks < 0}, {"suspicion_mult", s.SuspicionMult < 0},
		{"suspicion_max_timeout_mult", s.SuspicionMaxTimeoutMult < 0},
		{"awareness_max_multiplier", s.AwarenessMaxMultiplier < 0},
		{"retransmit_mult", s.RetransmitMult < 0}, {"gossip_interval", s.GossipInterval < 0},
		{"gossip_nodes", s.GossipNodes < 0}, {"gossip_to_the_dead_time", s.GossipToTheDeadTime < 0},
		{"push_pull_interval", s.PushPullInterval < 0}, {"reconnect_interval", s.ReconnectInterval < 0},
		{"tombstone_timeout", s.TombstoneTimeout < 0}, {"request_timeout", s.RequestTimeout < 0},
	} {
		if o.neg {
			return sc, fmt.Errorf("%s is negative", o.name)
		}
	}
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setDur := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	setDur(&sc.ProbeInterval, s.ProbeInterval)
	setDur(&sc.ProbeTimeout, s.ProbeTimeout)
	set(&sc.IndirectChecks, s.IndirectChecks)
	set(&sc.SuspicionMult, s.SuspicionMult)
	set(&sc.SuspicionMaxTimeoutMult, s.SuspicionMaxTimeoutMult)
	set(&sc.AwarenessMaxMultiplier, s.AwarenessMaxMultiplier)
	set(&sc.RetransmitMult, s.RetransmitMult)
	setDur(&sc.GossipInterval, s.GossipInterval)
	set(&sc.GossipNodes, s.GossipNodes)
	setDur(&sc.GossipToTheDeadTime, s.GossipToTheDeadTime)
	setDur(&sc.PushPullInterval, s.PushPullInterval)
	setDur(&sc.ReconnectInterval, s.ReconnectInterval)
	setDur(&sc.TombstoneTimeout, s.TombstoneTimeout)
	setDur(&sc.RequestTimeout, s.RequestTimeout)
	if sc.ProbeTimeout >= sc.ProbeInterval {
		return sc, fmt.Errorf("probe_timeout %v must be below probe_interval %v", sc.ProbeTimeout, sc.ProbeInterval)
	}
	return sc, nil
}
