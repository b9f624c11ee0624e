package membership_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/netip"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/snowmerak/clustering/membership"
)

// selfSigned returns a throwaway certificate; in production each node's
// ML-DSA certificate from pki.
func selfSigned(i int) []byte {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = byte(i)
	key := ed25519.NewKeyFromSeed(seed)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i) + 1), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	return der
}

func Example() {
	ctx := context.Background()
	repo := repotest.NewRepo(1024) // in production: memrepo, csvrepo or etcdrepo, wired in cmd/
	defer repo.Close()
	store, err := membership.Open(ctx, repo, membership.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	for i, zone := range []string{"eu-1a", "eu-1b", "eu-1c", "eu-1a"} {
		m, err := membership.NewMember(selfSigned(i), "eu", zone, "rack-1", netip.MustParseAddr("10.0.0.1"), "", 1)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := store.Add(ctx, m); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(len(store.FindByZone("eu", "eu-1a")), "members in eu-1a")

	// Placements are rebuilt in the background: wait for the current one.
	p, err := store.WaitPlacement(ctx, store.Revision())
	if err != nil {
		fmt.Println(err)
		return
	}
	zones := map[string]bool{}
	owners := p.Owners([]byte("user:42"), 3, nil)
	for _, id := range owners {
		m, _ := store.Get(id)
		zones[m.Zone] = true
	}
	fmt.Println(len(owners), "owners in", len(zones), "zones")
	// Output:
	// 2 members in eu-1a
	// 3 owners in 3 zones
}

func ExampleNewPlacement() {
	var members []core.Member
	for i := range 6 {
		m, _ := membership.NewMember(selfSigned(i), "eu", fmt.Sprint("zone-", i%3), "r1", netip.Addr{}, "", 1+i%2)
		members = append(members, m)
	}
	p, _ := membership.NewPlacement(members, membership.PlacementConfig{})
	owner := p.Owner([]byte("order:1001"))
	owners := p.Owners([]byte("order:1001"), 3, make([]core.NodeID, 0, 3))
	fmt.Println(p.Len(), p.Partitions(), owner == owners[0], len(owners))
	// Output: 6 131072 true 3
}
