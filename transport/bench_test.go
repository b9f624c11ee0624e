package transport

import (
	"context"
	"io"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xtaci/kcp-go/v5"
	"github.com/xtaci/smux"

	"github.com/snowmerak/clustering/core/coretest"
)

// benchKCP applies the transport's default KCP tuning to a raw kcp-go session.
func benchKCP(s *kcp.UDPSession, c KCPConfig) {
	s.SetNoDelay(c.NoDelay, c.Interval, c.Resend, c.NoCongestion)
	s.SetWindowSize(c.SendWindow, c.ReceiveWindow)
	s.SetMtu(c.MTU)
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetACKNoDelay(c.AckNoDelay)
}

func defaultKCP(testing.TB) KCPConfig { return DefaultKCPConfig(coretest.Suite()) }

// rawKCPPair is a raw kcp-go connection over loopback with the same tuning.
func rawKCPPair(tb testing.TB) (client, server net.Conn) {
	kc := defaultKCP(tb)
	l, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
	require.NoError(tb, err)
	l.SetReadBuffer(4 << 20)
	l.SetWriteBuffer(4 << 20)
	tb.Cleanup(func() { l.Close() })
	c, err := kcp.DialWithOptions(l.Addr().String(), nil, 0, 0)
	require.NoError(tb, err)
	c.SetReadBuffer(4 << 20)
	c.SetWriteBuffer(4 << 20)
	benchKCP(c, kc)
	c.Write([]byte{0})
	s, err := l.AcceptKCP()
	require.NoError(tb, err)
	benchKCP(s, kc)
	one := make([]byte, 1)
	_, err = io.ReadFull(s, one)
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// rawSmuxPair is a stream of kcptun's pairing: smux over raw kcp-go, with
// the transport's multiplexer settings.
func rawSmuxPair(tb testing.TB) (client, server net.Conn) {
	rc, rs := rawKCPPair(tb)
	kc := defaultKCP(tb)
	mc := &smux.Config{Version: 2, KeepAliveDisabled: true, MaxFrameSize: kc.FrameSize, MaxReceiveBuffer: kc.SessionBuffer, MaxStreamBuffer: kc.StreamBuffer}
	cl, err := smux.Client(rc, mc)
	require.NoError(tb, err)
	sv, err := smux.Server(rs, mc)
	require.NoError(tb, err)
	tb.Cleanup(func() { cl.Close(); sv.Close() })
	client, err = cl.OpenStream()
	require.NoError(tb, err)
	client.Write([]byte{0})
	server, err = sv.AcceptStream()
	require.NoError(tb, err)
	one := make([]byte, 1)
	_, err = io.ReadFull(server, one)
	require.NoError(tb, err)
	return client, server
}

// transportPair is a transport stream over loopback UDP.
func transportPair(tb testing.TB) (client, server net.Conn, sa, sb *Session) {
	p := newTestPKI(tb, "bench")
	mk := func(name string) Config {
		c := testConfig(p.node(tb, name), PeerPolicy{Trust: p.trust()}, newClock())
		c.TickInterval = DefaultTickInterval
		return c
	}
	a := listenUDP(tb, mk("a"))
	b := listenUDP(tb, mk("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sa, err := a.Dial(ctx, b.LocalAddr().String())
	require.NoError(tb, err)
	sb, err = b.Accept(ctx)
	require.NoError(tb, err)
	client, err = sa.OpenStream(ctx)
	require.NoError(tb, err)
	client.Write([]byte{0})
	server, err = sb.AcceptStream(ctx)
	require.NoError(tb, err)
	one := make([]byte, 1)
	_, err = io.ReadFull(server, one)
	require.NoError(tb, err)
	return client, server, sa, sb
}

// throughput copies total bytes from w to r and returns MB/s.
func throughput(tb testing.TB, w, r net.Conn, total int) float64 {
	buf := make([]byte, 64<<10)
	done := make(chan error, 1)
	go func() {
		rb := make([]byte, 64<<10)
		n := 0
		for n < total {
			m, err := r.Read(rb)
			if err != nil {
				done <- err
				return
			}
			n += m
		}
		done <- nil
	}()
	start := time.Now()
	for sent := 0; sent < total; {
		m := min(len(buf), total-sent)
		if _, err := w.Write(buf[:m]); err != nil {
			tb.Fatal(err)
		}
		sent += m
	}
	require.NoError(tb, <-done)
	return float64(total) / time.Since(start).Seconds() / 1e6
}

// BenchmarkStreamThroughput compares a transport stream with raw kcp-go
// (same tuning, same loopback) in the same run; ratio = transport / raw.
func BenchmarkStreamThroughput(b *testing.B) {
	const total = 64 << 20
	rc, rs := rawKCPPair(b)
	mc, ms := rawSmuxPair(b)
	tc, ts, _, _ := transportPair(b)
	var raw, mux, tr []float64
	for b.Loop() {
		raw = append(raw, throughput(b, rc, rs, total))
		mux = append(mux, throughput(b, mc, ms, total))
		tr = append(tr, throughput(b, tc, ts, total))
	}
	b.ReportMetric(median(raw), "raw-MB/s")
	b.ReportMetric(median(mux), "raw+smux-MB/s")
	b.ReportMetric(median(tr), "transport-MB/s")
	b.ReportMetric(median(tr)/median(raw), "ratio")
	b.ReportMetric(median(tr)/median(mux), "ratio-vs-smux")
}

// echo answers every 64-byte message on s until s fails.
func echo(s net.Conn) {
	b := make([]byte, 64)
	for {
		if _, err := io.ReadFull(s, b); err != nil {
			return
		}
		if _, err := s.Write(b); err != nil {
			return
		}
	}
}

// rtt measures n 64-byte round trips and returns the p50 in microseconds;
// the other end runs echo.
func rtt(tb testing.TB, c net.Conn, n int) float64 {
	msg := make([]byte, 64)
	samples := make([]float64, 0, n)
	for range n {
		start := time.Now()
		_, err := c.Write(msg)
		require.NoError(tb, err)
		_, err = io.ReadFull(c, msg)
		require.NoError(tb, err)
		samples = append(samples, float64(time.Since(start).Nanoseconds())/1e3)
	}
	return median(samples)
}

// BenchmarkRoundTrip64 compares the p50 round trip of 64-byte messages.
func BenchmarkRoundTrip64(b *testing.B) {
	rc, rs := rawKCPPair(b)
	tc, ts, _, _ := transportPair(b)
	go echo(rs)
	go echo(ts)
	var raw, tr []float64
	for b.Loop() {
		raw = append(raw, rtt(b, rc, 500))
		tr = append(tr, rtt(b, tc, 500))
	}
	b.ReportMetric(median(raw), "raw-p50-µs")
	b.ReportMetric(median(tr), "transport-p50-µs")
	b.ReportMetric(median(tr)/median(raw), "ratio")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
