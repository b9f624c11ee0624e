package integration_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xtaci/kcp-go/v5"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/transport"
)

// rawKCP is a raw kcp-go connection over loopback UDP with the transport's
// default tuning for the production suite: the baseline of the stream
// benchmarks.
func rawKCP(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	kc := transport.DefaultKCPConfig(pqc.DefaultSuite())
	tune := func(s *kcp.UDPSession) {
		s.SetNoDelay(kc.NoDelay, kc.Interval, kc.Resend, kc.NoCongestion)
		s.SetWindowSize(kc.SendWindow, kc.ReceiveWindow)
		s.SetMtu(kc.MTU)
		s.SetStreamMode(true)
		s.SetWriteDelay(false)
		s.SetACKNoDelay(kc.AckNoDelay)
		s.SetReadBuffer(4 << 20)
		s.SetWriteBuffer(4 << 20)
	}
	l, err := kcp.ListenWithOptions("127.0.0.1:0", nil, 0, 0)
	require.NoError(tb, err)
	l.SetReadBuffer(4 << 20)
	l.SetWriteBuffer(4 << 20)
	c, err := kcp.DialWithOptions(l.Addr().String(), nil, 0, 0)
	require.NoError(tb, err)
	tune(c)
	_, err = c.Write([]byte{0})
	require.NoError(tb, err)
	s, err := l.AcceptKCP()
	require.NoError(tb, err)
	tune(s)
	_, err = io.ReadFull(s, make([]byte, 1))
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close(); s.Close(); l.Close() })
	return c, s
}

// pqStream is a transport stream between two endpoints on loopback UDP with
// the production suite (X-Wing, ML-DSA-65, XChaCha20-Poly1305).
func pqStream(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	p := newPQPKI(tb)
	idA, _ := p.node(tb, "a")
	idB, _ := p.node(tb, "b")
	a, err := transport.ListenUDP("127.0.0.1:0", p.config(idA, 0))
	require.NoError(tb, err)
	b, err := transport.ListenUDP("127.0.0.1:0", p.config(idB, 0))
	require.NoError(tb, err)
	tb.Cleanup(func() { a.Close(); b.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sa, err := a.Dial(ctx, b.LocalAddr().String())
	require.NoError(tb, err)
	sb, err := b.Accept(ctx)
	require.NoError(tb, err)
	client, err = sa.OpenStream(ctx)
	require.NoError(tb, err)
	_, err = client.Write([]byte{0})
	require.NoError(tb, err)
	server, err = sb.AcceptStream(ctx)
	require.NoError(tb, err)
	_, err = io.ReadFull(server, make([]byte, 1))
	require.NoError(tb, err)
	return client, server
}

// copyRate sends total bytes from w to r and returns MB/s.
func copyRate(tb testing.TB, w, r net.Conn, total int) float64 {
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for n := 0; n < total; {
			m, err := r.Read(buf)
			if err != nil {
				done <- err
				return
			}
			n += m
		}
		done <- nil
	}()
	buf := make([]byte, 64<<10)
	start := time.Now()
	for sent := 0; sent < total; sent += len(buf) {
		_, err := w.Write(buf[:min(len(buf), total-sent)])
		require.NoError(tb, err)
	}
	require.NoError(tb, <-done)
	return float64(total) / time.Since(start).Seconds() / 1e6
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

// pingP50 returns the median round trip of 64-byte messages in
// microseconds; the other end runs echo.
func pingP50(tb testing.TB, c net.Conn, n int) float64 {
	msg := make([]byte, 64)
	rtts := make([]float64, 0, n)
	for range n {
		start := time.Now()
		_, err := c.Write(msg)
		require.NoError(tb, err)
		_, err = io.ReadFull(c, msg)
		require.NoError(tb, err)
		rtts = append(rtts, float64(time.Since(start).Nanoseconds())/1e3)
	}
	return median(rtts)
}

// BenchmarkTransportStreamPQ compares a transport stream (production suite)
// with raw kcp-go under the same tuning on the same loopback, interleaved in
// one run: bulk throughput (goal ≥ 0.8×) and the p50 round trip of 64-byte
// messages (goal ≤ 1.2×).
func BenchmarkTransportStreamPQ(b *testing.B) {
	const total = 32 << 20
	rc, rs := rawKCP(b)
	tc, ts := pqStream(b)
	rpc, rps := rawKCP(b)
	tpc, tps := pqStream(b)
	go echo(rps)
	go echo(tps)
	var rawRate, trRate, rawRTT, trRTT []float64
	for b.Loop() {
		rawRate = append(rawRate, copyRate(b, rc, rs, total))
		trRate = append(trRate, copyRate(b, tc, ts, total))
		rawRTT = append(rawRTT, pingP50(b, rpc, 300))
		trRTT = append(trRTT, pingP50(b, tpc, 300))
	}
	b.ReportMetric(median(rawRate), "raw-MB/s")
	b.ReportMetric(median(trRate), "transport-MB/s")
	b.ReportMetric(median(trRate)/median(rawRate), "throughput-ratio")
	b.ReportMetric(median(rawRTT), "raw-p50-µs")
	b.ReportMetric(median(trRTT), "transport-p50-µs")
	b.ReportMetric(median(trRTT)/median(rawRTT), "rtt-ratio")
}
