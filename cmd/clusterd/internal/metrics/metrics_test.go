package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/transport"
)

// fakeSource is a node with set counters.
type fakeSource struct {
	mu      sync.Mutex
	t       transport.Metrics
	m       transport.MessengerStats
	s       swim.Stats
	members []swim.MemberState
}

func (f *fakeSource) TransportMetrics() transport.Metrics      { return f.t }
func (f *fakeSource) MessengerStats() transport.MessengerStats { return f.m }
func (f *fakeSource) SWIMStats() swim.Stats                    { return f.s }
func (f *fakeSource) Members() []swim.MemberState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]swim.MemberState(nil), f.members...)
}

func (f *fakeSource) setRTT(i int, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[i].RTT = d
}

// scrape fetches and parses /metrics.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// value returns the value of the series of family name whose labels
// include want ("k=v" pairs).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "no series %s", name)
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}

func TestScrapeShowsEverySeries(t *testing.T) {
	src := &fakeSource{
		t: transport.Metrics{
			Sessions: 2, Handshakes: 1, SessionsOpened: 3, SessionsClosed: 1, HandshakesCompleted: 5, Rekeys: 2,
			HandshakeFailures: map[transport.Reason]uint64{transport.ReasonUntrusted: 3},
			PacketsIn:         10, PacketsOut: 11, BytesIn: 1000, BytesOut: 1100, ReplayDrops: 4, CookieReplies: 6, AuthFailures: 7,
		},
		m: transport.MessengerStats{DatagramsSent: 8, DatagramsReceived: 9, RequestsServed: 2},
		s: swim.Stats{Probes: 12, ProbeFailures: 1, Accusations: 1, Health: 2},
		members: []swim.MemberState{
			{ID: core.NodeID{1}, State: swim.StateAlive},
			{ID: core.NodeID{2}, State: swim.StateAlive, RTT: 2 * time.Millisecond},
			{ID: core.NodeID{3}, State: swim.StateDead},
			{ID: core.NodeID{4}, State: swim.StateSuspect},
		},
	}
	e := New(src)
	e.SampleRTT()
	e.SampleRTT() // an unchanged RTT is not observed twice
	src.setRTT(1, 3*time.Millisecond)
	e.SampleRTT()
	srv, err := Serve("127.0.0.1:0", e.Handler(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer srv.Close(context.Background())

	fams := scrape(t, "http://"+srv.Addr().String()+"/metrics")
	for _, tc := range []struct {
		series string
		labels []string
		want   float64
	}{
		{"clusterd_transport_sessions", nil, 2},
		{"clusterd_transport_handshakes_in_progress", nil, 1},
		{"clusterd_transport_handshakes_total", nil, 5},
		{"clusterd_transport_handshake_failures_total", []string{"reason=untrusted_certificate_chain"}, 3},
		{"clusterd_transport_handshake_failures_total", []string{"reason=bad_transcript_signature"}, 0},
		{"clusterd_transport_rekeys_total", nil, 2},
		{"clusterd_transport_bytes_total", []string{"direction=in"}, 1000},
		{"clusterd_transport_bytes_total", []string{"direction=out"}, 1100},
		{"clusterd_transport_packets_total", []string{"direction=out"}, 11},
		{"clusterd_transport_replay_drops_total", nil, 4},
		{"clusterd_transport_cookie_replies_total", nil, 6},
		{"clusterd_transport_dropped_total", []string{"reason=auth"}, 7},
		{"clusterd_transport_sessions_opened_total", nil, 3},
		{"clusterd_messenger_datagrams_total", []string{"event=received"}, 9},
		{"clusterd_messenger_requests_total", []string{"event=served"}, 2},
		{"clusterd_members", []string{"state=alive"}, 2},
		{"clusterd_members", []string{"state=suspect"}, 1},
		{"clusterd_members", []string{"state=dead"}, 1},
		{"clusterd_members", []string{"state=left"}, 0},
		{"clusterd_swim_probes_total", nil, 12},
		{"clusterd_swim_health_score", nil, 2},
		{"clusterd_swim_probe_rtt_seconds", nil, 2},
	} {
		assert.Equal(t, tc.want, value(t, fams, tc.series, tc.labels...), "%s%v", tc.series, tc.labels)
	}
	assert.Len(t, fams["clusterd_transport_handshake_failures_total"].Metric, len(transport.Reasons()), "a series per reason, before any failure")
	h := fams["clusterd_swim_probe_rtt_seconds"].Metric[0].Histogram
	assert.InDelta(t, 0.005, h.GetSampleSum(), 1e-9)
	assert.Contains(t, fams, "go_goroutines")
}

func TestReasonLabels(t *testing.T) {
	for _, r := range transport.Reasons() {
		l := reasonLabel(r)
		assert.Regexp(t, `^[a-z0-9_]+$`, l)
	}
	assert.Equal(t, "certificate_revoked", reasonLabel(transport.ReasonRevoked))
}
