package csvrepo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "csvrepo")
	defer os.RemoveAll(dir)
	repo, err := csvrepo.Open(filepath.Join(dir, "members.csv"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer repo.Close()
	// A row whose ID is not its certificate's NodeID would not load back, so
	// Put refuses it before touching the file.
	_, err = repo.Put(context.Background(), core.Member{ID: core.NodeID{1}}, 0)
	fmt.Println(err != nil)
	members, rev, _ := repo.List(context.Background())
	fmt.Println(len(members), rev)
	// Output:
	// true
	// 0 0
}
