package core_test

import (
	"net/netip"
	"testing"

	"github.com/snowmerak/clustering/core"
)

func TestPeerStringLeavesOutWhatIsUnknown(t *testing.T) {
	id := core.NodeID{0xab, 0xcd}
	addr := netip.MustParseAddrPort("10.0.0.1:7946")
	for _, tc := range []struct {
		peer core.Peer
		want string
	}{
		{core.Peer{ID: id, Addr: addr}, id.Short() + "@10.0.0.1:7946"},
		{core.Peer{Addr: addr}, "10.0.0.1:7946"}, // a seed given by address
		{core.Peer{ID: id}, id.Short()},
	} {
		if got := tc.peer.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.peer, got, tc.want)
		}
	}
}
