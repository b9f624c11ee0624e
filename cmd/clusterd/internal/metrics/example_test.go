package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/metrics"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/transport"
)

// node is a stand-in for a running node (node.Node implements Source).
type node struct{}

func (node) TransportMetrics() transport.Metrics      { return transport.Metrics{Sessions: 2} }
func (node) MessengerStats() transport.MessengerStats { return transport.MessengerStats{} }
func (node) SWIMStats() swim.Stats                    { return swim.Stats{} }
func (node) Members() []swim.MemberState {
	return []swim.MemberState{{ID: core.NodeID{1}, State: swim.StateAlive}, {ID: core.NodeID{2}, State: swim.StateDead}}
}

// The exporter reads the node's snapshots at scrape time.
func ExampleExporter() {
	e := metrics.New(node{})
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "clusterd_members{") || strings.HasPrefix(line, "clusterd_transport_sessions ") {
			fmt.Println(line)
		}
	}
	// Output:
	// clusterd_members{state="alive"} 1
	// clusterd_members{state="dead"} 1
	// clusterd_members{state="left"} 0
	// clusterd_members{state="suspect"} 0
	// clusterd_transport_sessions 2
}
