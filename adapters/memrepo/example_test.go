package memrepo_test

import (
	"context"
	"fmt"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/core"
)

func ExampleRepo() {
	ctx := context.Background()
	repo := memrepo.New()
	defer repo.Close()

	m := core.Member{ID: core.NodeID{1}, Region: "eu", Zone: "eu-1a", Rack: "r1", Weight: 1}
	rev, _ := repo.Put(ctx, m, 0) // 0: create only
	m.Weight = 2
	_, err := repo.Put(ctx, m, rev-1) // stale revision
	fmt.Println(rev, err != nil)
	rev, _ = repo.Put(ctx, m, rev) // compare-and-set with the right revision
	got, _ := repo.Get(ctx, m.ID)
	fmt.Println(rev, got.Weight)
	// Output:
	// 1 true
	// 2 2
}
