package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/transport"
)

// series is one metric a collector emits: its description and how to read
// it from a snapshot.
type series[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(S) float64
}

func counter[S any](name, help string, value func(S) float64, labels ...string) series[S] {
	return series[S]{desc: prometheus.NewDesc(name, help, nil, prometheus.Labels(pairs(labels))), kind: prometheus.CounterValue, value: value}
}

func gauge[S any](name, help string, value func(S) float64, labels ...string) series[S] {
	return series[S]{desc: prometheus.NewDesc(name, help, nil, prometheus.Labels(pairs(labels))), kind: prometheus.GaugeValue, value: value}
}

// pairs turns "k", "v", ... into a constant label map.
func pairs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// transportSnapshot is what one scrape reads from the transport.
type transportSnapshot struct {
	t transport.Metrics
	m transport.MessengerStats
}

// transportCollector reads the endpoint's and messenger's counters at
// scrape time.
type transportCollector struct {
	src      Source
	series   []series[transportSnapshot]
	failures *prometheus.Desc
}

func newTransportCollector(src Source) *transportCollector {
	type s = transportSnapshot
	u := func(f func(s) uint64) func(s) float64 { return func(x s) float64 { return float64(f(x)) } }
	const ns = "clusterd_transport_"
	const ms = "clusterd_messenger_"
	return &transportCollector{
		src: src,
		series: []series[s]{
			gauge(ns+"sessions", "Established sessions.", func(x s) float64 { return float64(x.t.Sessions) }),
			gauge(ns+"handshakes_in_progress", "Handshakes in progress (both roles).", func(x s) float64 { return float64(x.t.Handshakes) }),
			counter(ns+"sessions_opened_total", "Sessions established.", u(func(x s) uint64 { return x.t.SessionsOpened })),
			counter(ns+"sessions_closed_total", "Sessions ended.", u(func(x s) uint64 { return x.t.SessionsClosed })),
			counter(ns+"handshakes_total", "Handshakes that produced keys (rekeys included).", u(func(x s) uint64 { return x.t.HandshakesCompleted })),
			counter(ns+"rekeys_total", "Completed rekeys.", u(func(x s) uint64 { return x.t.Rekeys })),
			counter(ns+"bytes_total", "Bytes on the socket.", u(func(x s) uint64 { return x.t.BytesIn }), "direction", "in"),
			counter(ns+"bytes_total", "Bytes on the socket.", u(func(x s) uint64 { return x.t.BytesOut }), "direction", "out"),
			counter(ns+"packets_total", "Datagrams on the socket.", u(func(x s) uint64 { return x.t.PacketsIn }), "direction", "in"),
			counter(ns+"packets_total", "Datagrams on the socket.", u(func(x s) uint64 { return x.t.PacketsOut }), "direction", "out"),
			counter(ns+"replay_drops_total", "Records refused as replays or too old.", u(func(x s) uint64 { return x.t.ReplayDrops })),
			counter(ns+"cookie_replies_total", "Stateless cookie replies sent.", u(func(x s) uint64 { return x.t.CookieReplies })),
			drop("auth", func(x s) uint64 { return x.t.AuthFailures }),
			drop("unknown_index", func(x s) uint64 { return x.t.UnknownIndex }),
			drop("expired_key", func(x s) uint64 { return x.t.ExpiredKeyDrops }),
			drop("malformed", func(x s) uint64 { return x.t.MalformedDrops }),
			drop("bad_cookie", func(x s) uint64 { return x.t.BadCookies }),
			drop("rate_limited", func(x s) uint64 { return x.t.RateLimited }),
			drop("m1_replay", func(x s) uint64 { return x.t.M1Replays }),
			drop("amplification", func(x s) uint64 { return x.t.AmplificationBlocks }),
			drop("reassembly", func(x s) uint64 { return x.t.ReassemblyDrops }),
			drop("queue_full", func(x s) uint64 { return x.t.QueueDrops }),
			counter(ms+"datagrams_total", "Membership datagrams.", u(func(x s) uint64 { return x.m.DatagramsSent }), "event", "sent"),
			counter(ms+"datagrams_total", "Membership datagrams.", u(func(x s) uint64 { return x.m.DatagramsReceived }), "event", "received"),
			counter(ms+"datagrams_total", "Membership datagrams.", u(func(x s) uint64 { return x.m.DatagramsDropped }), "event", "dropped"),
			counter(ms+"requests_total", "Membership requests.", u(func(x s) uint64 { return x.m.RequestsSent }), "event", "sent"),
			counter(ms+"requests_total", "Membership requests.", u(func(x s) uint64 { return x.m.RequestsFailed }), "event", "failed"),
			counter(ms+"requests_total", "Membership requests.", u(func(x s) uint64 { return x.m.RequestsServed }), "event", "served"),
			counter(ms+"requests_total", "Membership requests.", u(func(x s) uint64 { return x.m.RequestsDropped }), "event", "dropped"),
		},
		failures: prometheus.NewDesc(ns+"handshake_failures_total", "Failed handshakes by reason.", []string{"reason"}, nil),
	}
}

// drop is a series of clusterd_transport_dropped_total for one reason.
func drop(reason string, f func(transportSnapshot) uint64) series[transportSnapshot] {
	return counter("clusterd_transport_dropped_total", "Datagrams dropped before use, by reason.",
		func(x transportSnapshot) float64 { return float64(f(x)) }, "reason", reason)
}

func (c *transportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.series {
		ch <- s.desc
	}
	ch <- c.failures
}

func (c *transportCollector) Collect(ch chan<- prometheus.Metric) {
	snap := transportSnapshot{t: c.src.TransportMetrics(), m: c.src.MessengerStats()}
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(snap))
	}
	for _, r := range transport.Reasons() {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(snap.t.HandshakeFailures[r]), reasonLabel(r))
	}
}

// membershipSnapshot is what one scrape reads from SWIM.
type membershipSnapshot struct {
	stats   swim.Stats
	byState map[swim.State]int
}

// membershipCollector reads SWIM's counters and member states at scrape time.
type membershipCollector struct {
	src    Source
	series []series[membershipSnapshot]
}

func newMembershipCollector(src Source) *membershipCollector {
	type s = membershipSnapshot
	i := func(f func(s) int64) func(s) float64 { return func(x s) float64 { return float64(f(x)) } }
	const ns = "clusterd_swim_"
	state := func(st swim.State) series[s] {
		return gauge("clusterd_members", "Members by state as this node sees them (itself included).",
			func(x s) float64 { return float64(x.byState[st]) }, "state", st.String())
	}
	return &membershipCollector{src: src, series: []series[s]{
		state(swim.StateAlive), state(swim.StateSuspect), state(swim.StateDead), state(swim.StateLeft),
		counter(ns+"probes_total", "Probes started.", i(func(x s) int64 { return x.stats.Probes })),
		counter(ns+"probe_failures_total", "Probes that ended without an ack.", i(func(x s) int64 { return x.stats.ProbeFailures })),
		counter(ns+"indirect_probes_total", "Indirect probe requests sent.", i(func(x s) int64 { return x.stats.IndirectProbes })),
		counter(ns+"accusations_total", "Suspect and dead records this node signed.", i(func(x s) int64 { return x.stats.Accusations })),
		counter(ns+"refutations_total", "Alive records signed to refute an accusation.", i(func(x s) int64 { return x.stats.Refutations })),
		counter(ns+"records_verified_total", "Record signatures verified.", i(func(x s) int64 { return x.stats.Verified })),
		counter(ns+"records_rejected_total", "Records that failed verification.", i(func(x s) int64 { return x.stats.Rejected })),
		counter(ns+"bad_messages_total", "Messages that failed to decode.", i(func(x s) int64 { return x.stats.BadMessages })),
		gauge(ns+"health_score", "Local health score (0 is healthy; Lifeguard).", func(x s) float64 { return float64(x.stats.Health) }),
	}}
}

func (c *membershipCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.series {
		ch <- s.desc
	}
}

func (c *membershipCollector) Collect(ch chan<- prometheus.Metric) {
	snap := membershipSnapshot{stats: c.src.SWIMStats(), byState: map[swim.State]int{}}
	for _, m := range c.src.Members() {
		snap.byState[m.State]++
	}
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(snap))
	}
}
