//go:build linux

package transport

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// groControl is the control message the kernel attaches to a GRO read.
func groControl(size int) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := unix.Cmsghdr{Level: unix.SOL_UDP, Type: unix.UDP_GRO}
	h.SetLen(unix.CmsgLen(4))
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h)))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(size))
	return b
}

func TestGROSegmentSizeReadsOnlyAWellFormedGROMessage(t *testing.T) {
	other := groControl(1200)
	(*unix.Cmsghdr)(unsafe.Pointer(&other[0])).Type = unix.UDP_SEGMENT
	tests := []struct {
		name string
		oob  []byte
		want int
	}{
		{"GRO message", groControl(1200), 1200},
		{"after another message", append(append([]byte(nil), other...), groControl(900)...), 900},
		{"none", nil, 0},
		{"another option only", other, 0},
		{"truncated header", groControl(1200)[:8], 0},
		{"length past the buffer", groControl(1200)[:unix.CmsgLen(2)], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, groSegmentSize(tt.oob))
		})
	}
}

func TestGSOControlIsAUDPSegmentMessage(t *testing.T) {
	var b [gsoControlSize]byte
	msgs, err := unix.ParseSocketControlMessage(putGSOControl(b[:], 1200))
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.EqualValues(t, unix.SOL_UDP, msgs[0].Header.Level)
	assert.EqualValues(t, unix.UDP_SEGMENT, msgs[0].Header.Type)
	assert.EqualValues(t, 1200, binary.NativeEndian.Uint16(msgs[0].Data))
}

// GSO messages must hold one destination and equal sizes (the last may be
// shorter), or the kernel would put other datagrams on the wire than a
// sender without offload.
func TestBatchBuildGroupsOnlyEqualRunsToOneAddress(t *testing.T) {
	a, b := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	type pkt struct {
		to netip.AddrPort
		n  int
	}
	run := func(to netip.AddrPort, n, count int) []pkt {
		out := make([]pkt, count)
		for i := range out {
			out[i] = pkt{to, n}
		}
		return out
	}
	cat := func(ps ...[]pkt) []pkt {
		var out []pkt
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		pkts []pkt
		gso  bool
		want []int // datagrams per message
	}{
		{"equal run", run(a, 1200, 5), true, []int{5}},
		{"shorter last joins the run", cat(run(a, 1200, 3), run(a, 700, 1)), true, []int{4}},
		{"shorter record ends the run", cat(run(a, 1200, 2), run(a, 700, 2)), true, []int{3, 1}},
		{"larger record starts a run", cat(run(a, 700, 2), run(a, 1200, 2)), true, []int{2, 2}},
		{"another address starts a run", cat(run(a, 1200, 2), run(b, 1200, 2), run(a, 1200, 1)), true, []int{2, 2, 1}},
		{"at most 64 segments", run(a, 100, 70), true, []int{64, 6}},
		{"at most 64 KB", run(a, 1200, 60), true, []int{54, 6}},
		{"without GSO one per message", run(a, 1200, 3), false, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var batch txBatch
			for i, p := range tt.pkts {
				buf := new(packetBuf)
				buf[0] = byte(i)
				batch.pkts = append(batch.pkts, txPacket{buf: buf, n: p.n, ap: p.to, addr: net.UDPAddrFromAddrPort(p.to)})
			}
			msgs := batch.build(tt.gso)
			var got []int
			next := 0
			for _, m := range msgs {
				got = append(got, len(m.Buffers))
				assert.Equal(t, len(m.Buffers) > 1, len(m.OOB) > 0, "only multi-datagram messages carry UDP_SEGMENT")
				for _, v := range m.Buffers {
					assert.Equal(t, byte(next), v[0], "datagrams keep their order")
					assert.Equal(t, tt.pkts[next].to.String(), m.Addr.String())
					next++
				}
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.pkts), next)
		})
	}
}

// failingGSO refuses every GSO message the way a path without checksum
// offload does (EIO) and records what it sent.
type failingGSO struct{ sent [][]byte }

func (f *failingGSO) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	for i, m := range ms {
		if len(m.OOB) > 0 {
			return i, unix.EIO
		}
		f.sent = append(f.sent, m.Buffers[0])
	}
	return len(ms), nil
}

func TestGSOFailureFallsBackToOneDatagramPerMessage(t *testing.T) {
	e := &Endpoint{cfg: Config{Logger: slog.New(slog.DiscardHandler)}}
	f := &failingGSO{}
	w := &batchWriter{e: e, bs: f}
	w.gso.Store(true)
	var batch txBatch
	to := netip.MustParseAddrPort("127.0.0.1:9")
	for i := range 5 {
		buf := new(packetBuf)
		buf[0] = byte(i)
		batch.pkts = append(batch.pkts, txPacket{buf: buf, n: 1200, ap: to, addr: net.UDPAddrFromAddrPort(to)})
	}
	w.write(&batch)
	assert.False(t, w.gso.Load(), "GSO is off after the path refused it")
	require.Len(t, f.sent, 5, "every datagram sent once")
	for i, d := range f.sent {
		assert.Equal(t, byte(i), d[0])
	}
	assert.EqualValues(t, 5, e.stats.packetsOut.Load())
}

func TestNextSegmentCutsAGROReadIntoItsDatagrams(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3}, 1000) // 3000 bytes
	tests := []struct {
		name string
		size int
		want []int
	}{
		{"equal and a shorter last", 1200, []int{1200, 1200, 600}},
		{"exact multiple", 1000, []int{1000, 1000, 1000}},
		{"no GRO", 0, []int{3000}},
		{"size not below the read", 3000, []int{3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			var joined []byte
			for rest := data; len(rest) > 0; {
				var d []byte
				d, rest = nextSegment(rest, tt.size)
				got = append(got, len(d))
				joined = append(joined, d...)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, data, joined)
		})
	}
}

// A UDP endpoint on Linux sends with GSO and reads with GRO.
func TestUDPEndpointUsesSegmentationOffloads(t *testing.T) {
	pk := newTestPKI(t, "gso")
	a := listenUDP(t, testConfig(pk.node(t, "a"), PeerPolicy{Trust: pk.trust()}, newClock()))
	require.NotNil(t, a.tx)
	assert.True(t, a.tx.gso.Load(), "GSO on")
	var gro int
	control(a.conn.(*net.UDPConn), func(fd int) { gro, _ = unix.GetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO) })
	assert.Equal(t, 1, gro, "GRO on")
}

func FuzzGROSegments(f *testing.F) {
	f.Add(groControl(1200), 3000)
	f.Add([]byte{}, 10)
	f.Add(groControl(0), 5)
	f.Fuzz(func(t *testing.T, oob []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i)
		}
		size := groSegmentSize(oob)
		var joined []byte
		for rest := data; len(rest) > 0; {
			var d []byte
			d, rest = nextSegment(rest, size)
			if size > 0 && len(d) > size {
				t.Fatalf("segment of %d bytes, size %d", len(d), size)
			}
			joined = append(joined, d...)
		}
		if !bytes.Equal(joined, data) {
			t.Fatal("segments do not add up to the read")
		}
	})
}
