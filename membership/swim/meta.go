package swim

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// Limits on metadata, checked when a Node is configured and when a record is
// decoded.
const (
	// MaxMetaString is the longest Region, Zone, Rack, label key or label value.
	MaxMetaString = 255
	// MaxLabels is the largest number of labels.
	MaxLabels = 64
)

// Meta is what a member announces about itself in its alive records:
// where it sits in the failure-domain hierarchy, its placement weight, its
// transport address and free-form labels.
type Meta struct {
	// Region, Zone and Rack place the member (Region > Zone > Rack).
	Region, Zone, Rack string
	// Weight is the member's relative capacity for placement (0 … 2³¹−1).
	Weight int
	// Addr is the member's transport address, if it announces one.
	Addr netip.AddrPort
	// Labels holds free-form metadata.
	Labels map[string]string
}

// Clone returns a copy of m that shares no map with it.
func (m Meta) Clone() Meta {
	m.Labels = maps.Clone(m.Labels)
	return m
}

// Equal reports whether m and o announce the same thing.
func (m Meta) Equal(o Meta) bool {
	return m.Region == o.Region && m.Zone == o.Zone && m.Rack == o.Rack &&
		m.Weight == o.Weight && m.Addr == o.Addr && maps.Equal(m.Labels, o.Labels)
}

func (m Meta) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("meta: "+format+": %w", append(args, core.ErrInvalidInput)...)
	}
	for _, s := range []string{m.Region, m.Zone, m.Rack} {
		if len(s) > MaxMetaString {
			return bad("field of %d bytes exceeds %d", len(s), MaxMetaString)
		}
	}
	if m.Weight < 0 || m.Weight > math.MaxInt32 {
		return bad("weight %d out of range", m.Weight)
	}
	if len(m.Labels) > MaxLabels {
		return bad("%d labels exceed %d", len(m.Labels), MaxLabels)
	}
	for k, v := range m.Labels {
		if len(k) > MaxMetaString || len(v) > MaxMetaString {
			return bad("label %q too long", k)
		}
	}
	return nil
}

// appendMeta encodes m canonically: labels sorted by key.
func appendMeta(b []byte, m Meta) []byte {
	b = appendStr8(b, m.Region)
	b = appendStr8(b, m.Zone)
	b = appendStr8(b, m.Rack)
	b = binary.BigEndian.AppendUint32(b, uint32(m.Weight))
	b = appendAddrPort(b, m.Addr)
	b = append(b, byte(len(m.Labels)))
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		b = appendStr8(b, k)
		b = appendStr8(b, m.Labels[k])
	}
	return b
}

// readMeta decodes metadata, insisting on the canonical form (labels in
// strictly increasing key order) so that one Meta has one encoding.
func readMeta(r *reader) Meta {
	var m Meta
	m.Region = r.str8("meta region")
	m.Zone = r.str8("meta zone")
	m.Rack = r.str8("meta rack")
	w := r.u32("meta weight")
	if w > math.MaxInt32 {
		r.fail("meta weight %d out of range", w)
	}
	m.Weight = int(w)
	m.Addr = r.addrPort("meta address")
	n := int(r.u8("meta label count"))
	if n > MaxLabels {
		r.fail("meta: %d labels exceed %d", n, MaxLabels)
		return m
	}
	if n > 0 && r.err == nil {
		m.Labels = make(map[string]string, n)
		prev := ""
		for i := range n {
			k := r.str8("meta label key")
			v := r.str8("meta label value")
			if r.err != nil {
				break
			}
			if i > 0 && k <= prev {
				r.fail("meta: label keys not in increasing order")
				break
			}
			prev = k
			m.Labels[k] = v
		}
	}
	return m
}
