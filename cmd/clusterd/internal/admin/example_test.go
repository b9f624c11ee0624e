package admin_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
)

// node is a stand-in for a running node.
type node struct{}

func (node) Members() []admin.Member {
	return []admin.Member{{ID: "0a7a5cbb6d115438", Self: true, State: "alive", Zone: "zone-a", Weight: 1}}
}

func (node) Status() admin.Status {
	return admin.Status{ID: "0a7a5cbb6d115438", Members: map[string]int{"alive": 1}}
}

func (node) Reload(context.Context) (admin.Reload, error) {
	return admin.Reload{Roots: 1}, nil
}

// A node serves its admin socket; "clusterd members" queries it.
func Example() {
	dir, _ := os.MkdirTemp("", "admin-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "clusterd.sock")
	srv, err := admin.Listen(path, node{}, slog.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := admin.Query(ctx, path, admin.CommandMembers)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range resp.Members {
		fmt.Println(m.ID, m.State, m.Zone)
	}
	// Output: 0a7a5cbb6d115438 alive zone-a
}
