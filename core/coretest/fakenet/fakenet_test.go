package fakenet_test

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

func listen(t *testing.T, n *fakenet.Network, addr string) *fakenet.Conn {
	t.Helper()
	c, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recvAll reads datagrams until none arrives for quiet.
func recvAll(c *fakenet.Conn, quiet time.Duration) [][]byte {
	var got [][]byte
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return got
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
}

func send(t *testing.T, c *fakenet.Conn, to net.Addr, count int) {
	t.Helper()
	for i := range count {
		if _, err := c.WriteTo([]byte{byte(i >> 8), byte(i)}, to); err != nil {
			t.Fatal(err)
		}
	}
}

var _ core.PacketConn = (*fakenet.Conn)(nil)

func TestDeliveryAndAddresses(t *testing.T) {
	n := fakenet.New(1)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	if _, err := a.WriteTo([]byte("hi"), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	k, from, err := b.ReadFrom(buf)
	if err != nil || string(buf[:k]) != "hi" || from.String() != "10.0.0.1:1" {
		t.Fatalf("got %q from %v, %v", buf[:k], from, err)
	}
	if _, err := n.Listen("10.0.0.1:1"); err == nil {
		t.Fatal("second listen on a busy address succeeded")
	}
	if _, err := n.Listen("nonsense"); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("bad address: %v", err)
	}
}

func TestLossIsSeededAndReproducible(t *testing.T) {
	run := func(seed int64) []byte {
		n := fakenet.New(seed)
		a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
		n.SetFaults("*", "*", fakenet.Faults{Loss: 0.3})
		send(t, a, b.LocalAddr(), 2000)
		var seen []byte
		for _, p := range recvAll(b, 20*time.Millisecond) {
			seen = append(seen, p...)
		}
		return seen
	}
	first, again, other := run(7), run(7), run(8)
	if got := len(first) / 2; got < 1300 || got > 1500 {
		t.Fatalf("30%% loss delivered %d of 2000", got)
	}
	if !bytes.Equal(first, again) {
		t.Fatal("same seed gave different losses")
	}
	if bytes.Equal(first, other) {
		t.Fatal("different seeds gave identical losses")
	}
}

func TestDuplicationReorderingAndMTU(t *testing.T) {
	n := fakenet.New(3)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	n.SetFaults("10.0.0.1", "10.0.0.2:2", fakenet.Faults{Duplicate: 0.5, Reorder: 0.5, ReorderDelay: 3 * time.Millisecond})
	send(t, a, b.LocalAddr(), 400)
	got := recvAll(b, 50*time.Millisecond)
	if len(got) < 500 || len(got) > 700 {
		t.Fatalf("50%% duplication delivered %d of 400", len(got))
	}
	inversions := 0
	for i := 1; i < len(got); i++ {
		if bytes.Compare(got[i], got[i-1]) < 0 {
			inversions++
		}
	}
	if inversions == 0 {
		t.Fatal("no reordering observed")
	}

	n.SetFaults("*", "*", fakenet.Faults{MTU: 100})
	a.WriteTo(make([]byte, 101), b.LocalAddr())
	a.WriteTo(make([]byte, 100), b.LocalAddr())
	if got := recvAll(b, 20*time.Millisecond); len(got) != 1 || len(got[0]) != 100 {
		t.Fatalf("MTU 100 delivered %d packets", len(got))
	}
}

func TestDelayAndBandwidth(t *testing.T) {
	n := fakenet.New(4)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	n.SetFaults("*", "*", fakenet.Faults{Delay: 30 * time.Millisecond, Jitter: 5 * time.Millisecond})
	start := time.Now()
	a.WriteTo([]byte("x"), b.LocalAddr())
	b.SetReadDeadline(time.Now().Add(time.Second))
	if _, _, err := b.ReadFrom(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("delivered after %v, want ≥ 30ms", d)
	}

	// 100 KB/s with a 200 ms queue: of 100 × 1000-byte packets sent at once,
	// about 20 fit in the queue and the rest are tail-dropped.
	n.SetFaults("*", "*", fakenet.Faults{Bandwidth: 100_000})
	for range 100 {
		a.WriteTo(make([]byte, 1000), b.LocalAddr())
	}
	if got := len(recvAll(b, 100*time.Millisecond)); got < 15 || got > 25 {
		t.Fatalf("bandwidth limit delivered %d packets, want about 20", got)
	}
}

func TestPartitionsCrashAndHeal(t *testing.T) {
	n := fakenet.New(5)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	n.Block("10.0.0.1:1", "10.0.0.2:2")
	a.WriteTo([]byte("x"), b.LocalAddr())
	b.WriteTo([]byte("y"), a.LocalAddr())
	if len(recvAll(b, 10*time.Millisecond)) != 0 || len(recvAll(a, 10*time.Millisecond)) != 1 {
		t.Fatal("one-way partition is not one-way")
	}
	n.Heal()
	n.Partition([]string{"10.0.0.1:1"}, []string{"10.0.0.2:2"})
	a.WriteTo([]byte("x"), b.LocalAddr())
	b.WriteTo([]byte("y"), a.LocalAddr())
	if len(recvAll(b, 10*time.Millisecond))+len(recvAll(a, 10*time.Millisecond)) != 0 {
		t.Fatal("two-way partition leaked")
	}
	n.Heal()
	n.Crash("10.0.0.2")
	a.WriteTo([]byte("x"), b.LocalAddr())
	b.WriteTo([]byte("y"), a.LocalAddr())
	if len(recvAll(b, 10*time.Millisecond))+len(recvAll(a, 10*time.Millisecond)) != 0 {
		t.Fatal("crashed node still talks")
	}
	n.Restore("10.0.0.2")
	a.WriteTo([]byte("x"), b.LocalAddr())
	if len(recvAll(b, 10*time.Millisecond)) != 1 {
		t.Fatal("restored node does not receive")
	}
}

func TestRebindChangesSource(t *testing.T) {
	n := fakenet.New(6)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	if err := a.Rebind("10.0.0.9:9"); err != nil {
		t.Fatal(err)
	}
	a.WriteTo([]byte("x"), b.LocalAddr())
	buf := make([]byte, 8)
	b.SetReadDeadline(time.Now().Add(time.Second))
	if _, from, err := b.ReadFrom(buf); err != nil || from.String() != "10.0.0.9:9" {
		t.Fatalf("from %v, %v", from, err)
	}
	b.WriteTo([]byte("old"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1})
	if len(recvAll(a, 10*time.Millisecond)) != 0 {
		t.Fatal("packet to the old address arrived")
	}
	if a.LocalAddr().String() != "10.0.0.9:9" {
		t.Fatalf("LocalAddr = %v", a.LocalAddr())
	}
}

func TestHookModifiesDropsAndInjects(t *testing.T) {
	n := fakenet.New(7)
	a, b := listen(t, n, "10.0.0.1:1"), listen(t, n, "10.0.0.2:2")
	var seen int
	n.SetHook(func(p *fakenet.Packet) fakenet.Verdict {
		seen++
		if p.Payload[0] == 'd' {
			return fakenet.Drop
		}
		p.Payload[0] ^= 0xff
		return fakenet.Deliver
	})
	a.WriteTo([]byte("drop"), b.LocalAddr())
	a.WriteTo([]byte("flip"), b.LocalAddr())
	n.Inject(netip.MustParseAddrPort("6.6.6.6:6"), netip.MustParseAddrPort("10.0.0.2:2"), []byte("forged"))
	got := recvAll(b, 20*time.Millisecond)
	if seen != 2 || len(got) != 2 || got[0][0] != 'f'^0xff || string(got[1]) != "forged" {
		t.Fatalf("seen %d, got %q", seen, got)
	}
	st := n.Stats(netip.MustParseAddrPort("10.0.0.2:2"))
	if st.PacketsReceived != 2 || st.BytesReceived != int64(len("flip")+len("forged")) {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeadlinesAndClose(t *testing.T) {
	n := fakenet.New(8)
	a := listen(t, n, "10.0.0.1:1")
	a.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, _, err := a.ReadFrom(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	a.SetReadDeadline(time.Time{})
	done := make(chan error)
	go func() { _, _, err := a.ReadFrom(make([]byte, 1)); done <- err }()
	time.Sleep(5 * time.Millisecond)
	a.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := a.WriteTo([]byte("x"), a.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := n.Listen("10.0.0.1:1"); err != nil {
		t.Fatalf("address not freed by Close: %v", err)
	}
}
