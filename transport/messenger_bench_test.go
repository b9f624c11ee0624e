package transport

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
)

// BenchmarkMessengerRequest measures a Messenger request/reply of 64 bytes
// over loopback UDP against a baseline measured in the same run: the same
// exchange done by hand on another session (open a stream, write, read the
// echo, close). x-baseline is the messenger's time relative to it.
func BenchmarkMessengerRequest(b *testing.B) {
	clk := newClock()
	p := newTestPKI(b, "bench")
	ea := listenUDP(b, testConfig(p.node(b, "a"), PeerPolicy{Trust: p.trust()}, clk))
	eb := listenUDP(b, testConfig(p.node(b, "b"), PeerPolicy{Trust: p.trust()}, clk))
	ma := NewMessenger(ea, MessengerConfig{})
	mb := NewMessenger(eb, MessengerConfig{})
	b.Cleanup(func() { ma.Close(); mb.Close() })
	ma.Handle(&msgRecorder{})
	rb := &msgRecorder{reply: func(_ context.Context, payload []byte) ([]byte, error) { return payload, nil }}
	mb.Handle(rb)
	ctx := context.Background()
	to := core.Peer{ID: eb.NodeID(), Addr: netip.MustParseAddrPort(eb.LocalAddr().String())}
	payload := make([]byte, 64)
	if _, err := ma.Request(ctx, to, payload); err != nil {
		b.Fatal(err)
	}
	// The messenger owns AcceptStream on its sessions, so the baseline runs
	// on a second pair of endpoints with a hand-written echo server.
	ec := listenUDP(b, testConfig(p.node(b, "c"), PeerPolicy{Trust: p.trust()}, clk))
	ed := listenUDP(b, testConfig(p.node(b, "d"), PeerPolicy{Trust: p.trust()}, clk))
	sc, err := ec.Dial(ctx, ed.LocalAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	sd, err := ed.Accept(ctx)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			st, err := sd.AcceptStream(context.Background())
			if err != nil {
				return
			}
			buf := make([]byte, len(payload))
			if _, err := io.ReadFull(st, buf); err == nil {
				st.Write(buf)
			}
			st.Close()
		}
	}()
	raw := func() {
		st, err := sc.OpenStream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		st.Write(payload)
		if _, err := io.ReadFull(st, make([]byte, len(payload))); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	b.ReportAllocs()
	b.ResetTimer()
	begin := time.Now()
	for range b.N {
		raw()
	}
	baseline := time.Since(begin)
	b.ResetTimer()
	for range b.N {
		if _, err := ma.Request(ctx, to, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(b.Elapsed())/float64(baseline), "x-baseline")
}
