// Package metrics exports a clusterd node's state to Prometheus: the
// transport's counters (handshakes by outcome and failure reason, sessions,
// bytes and packets, replay drops, cookie replies, rekeys, other drops),
// the messenger's, SWIM's (member counts by state, probes, accusations,
// health) and a histogram of probe round-trip times. Counters are read
// from the node's snapshots at scrape time, so the hot paths pay nothing.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/transport"
)

// Source is what the exporter reads: a running node.
type Source interface {
	TransportMetrics() transport.Metrics
	MessengerStats() transport.MessengerStats
	SWIMStats() swim.Stats
	Members() []swim.MemberState
}

// RTTBuckets are the probe RTT histogram's bounds: 100µs to about 3.3s,
// doubling, which covers loopback to intercontinental links.
var RTTBuckets = prometheus.ExponentialBuckets(100e-6, 2, 16)

// Exporter publishes a Source's metrics in its own registry (no global
// state), with the Go runtime and process collectors beside them.
type Exporter struct {
	reg *prometheus.Registry
	src Source
	rtt prometheus.Histogram

	mu      sync.Mutex
	lastRTT map[core.NodeID]time.Duration
}

// New returns an exporter of src.
func New(src Source) *Exporter {
	e := &Exporter{
		reg: prometheus.NewRegistry(),
		src: src,
		rtt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "clusterd", Subsystem: "swim", Name: "probe_rtt_seconds",
			Help: "Round-trip time of direct SWIM probes that were answered.", Buckets: RTTBuckets,
		}),
		lastRTT: make(map[core.NodeID]time.Duration),
	}
	e.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newTransportCollector(src),
		newMembershipCollector(src),
		e.rtt,
	)
	return e
}

// Registry returns the exporter's registry.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Handler serves the metrics in the Prometheus text format.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Registry: e.reg})
}

// SampleRTT observes every probe RTT that changed since the last sample.
// SWIM keeps the RTT of its last direct probe of each member; sampling at
// least once per probe interval sees each new one (two probes of one member
// within a sampling period, or two equal RTTs to the nanosecond, count once).
func (e *Exporter) SampleRTT() {
	members := e.src.Members()
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := make(map[core.NodeID]bool, len(members))
	for _, m := range members {
		seen[m.ID] = true
		if m.RTT > 0 && m.RTT != e.lastRTT[m.ID] {
			e.rtt.Observe(m.RTT.Seconds())
			e.lastRTT[m.ID] = m.RTT
		}
	}
	for id := range e.lastRTT {
		if !seen[id] {
			delete(e.lastRTT, id)
		}
	}
}

// Run samples probe RTTs every interval until ctx ends.
func (e *Exporter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.SampleRTT()
		}
	}
}

// reasonLabel turns a handshake failure reason into a label value:
// "untrusted certificate chain" → "untrusted_certificate_chain".
func reasonLabel(r transport.Reason) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			return c
		case c >= 'A' && c <= 'Z':
			return c + 'a' - 'A'
		}
		return '_'
	}, r.String())
}
