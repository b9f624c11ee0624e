package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/snowmerak/clustering/core"
)

// Seed is a member to join through: its NodeID when known, and its address.
// A seed given by address alone is authenticated by the trust policy; one
// given with its NodeID must also present that key.
type Seed struct {
	// ID is the seed's NodeID, or zero when only the address was given.
	ID core.NodeID
	// Host is an IP address or a DNS name; Port the transport port.
	Host string
	Port uint16
}

// ParseSeed parses "nodeid@host:port" (nodeid in the 64-character hex form
// "clusterd status" and cpki print) or "host:port". IPv6 hosts are
// bracketed: "[2001:db8::1]:7946".
func ParseSeed(s string) (Seed, error) {
	var seed Seed
	addr := s
	if idText, rest, ok := strings.Cut(s, "@"); ok {
		id, err := core.ParseNodeID(idText)
		if err != nil {
			return seed, fmt.Errorf("seed %q: %w", s, err)
		}
		seed.ID, addr = id, rest
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return seed, fmt.Errorf("seed %q: want nodeid@host:port or host:port: %v: %w", s, err, core.ErrInvalidInput)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return seed, fmt.Errorf("seed %q: port %q is not a number in 1..65535: %w", s, port, core.ErrInvalidInput)
	}
	if host == "" || strings.ContainsAny(host, " \t@/") {
		return seed, fmt.Errorf("seed %q: bad host %q: %w", s, host, core.ErrInvalidInput)
	}
	seed.Host, seed.Port = host, uint16(p)
	return seed, nil
}

// Address returns "host:port".
func (s Seed) Address() string { return net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port))) }

// String returns the seed in the form ParseSeed reads.
func (s Seed) String() string {
	if s.ID.IsZero() {
		return s.Address()
	}
	return s.ID.String() + "@" + s.Address()
}
