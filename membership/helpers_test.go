package membership_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// fakeMember returns member i (no certificate: placement needs none) in
// zone i%zones and rack (i/zones)%racks of that zone, with the given weight.
func fakeMember(i, zones, racks, weight int) core.Member {
	id := core.NodeID(sha256.Sum256(binary.BigEndian.AppendUint64([]byte("member"), uint64(i))))
	return core.Member{
		ID:     id,
		Region: "r0",
		Zone:   fmt.Sprintf("z%d", i%zones),
		Rack:   fmt.Sprintf("k%d", (i/zones)%racks),
		Weight: weight,
	}
}

func fakeMembers(n, zones, racks int, weight func(i int) int) []core.Member {
	ms := make([]core.Member, n)
	for i := range ms {
		ms[i] = fakeMember(i, zones, racks, weight(i))
	}
	return ms
}

func one(int) int { return 1 }

// key returns the i-th test key.
func key(buf []byte, i int) []byte {
	return binary.LittleEndian.AppendUint64(append(buf[:0], "key-"...), uint64(i))
}

// keysFor returns how many keys a movement test hashes: at least 1M, and
// enough that the ideal moved share is ≥ 4000 keys (±1.6% sampling noise).
func keysFor(n int) int { return max(1<<20, 4000*(n+1)) }
