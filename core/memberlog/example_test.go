package memberlog_test

import (
	"context"
	"fmt"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/memberlog"
)

// A Table is a complete core.MemberRepo: compare-and-set writes and watches
// that replay the kept history.
func ExampleTable() {
	ctx := context.Background()
	tbl := memberlog.New(memberlog.Config{Name: "example", History: 16})
	defer tbl.Close()

	m := core.Member{ID: core.NodeID{1}, Region: "eu", Zone: "eu-1a", Rack: "r1", Weight: 1}
	rev, _ := tbl.Put(ctx, m, 0) // 0: create only
	_, err := tbl.Put(ctx, m, 0)
	fmt.Println(rev, err)
	m.Weight = 2
	_, _ = tbl.Put(ctx, m, rev)

	watch, cancel := context.WithCancel(ctx)
	defer cancel()
	events, _ := tbl.Watch(watch, 0) // replay from the start of the history
	for range 2 {
		ev := <-events
		fmt.Println(ev.Type, ev.Revision, ev.Member.Weight)
	}
	// Output:
	// 1 example: put 0100000000000000: stored revision 1, expected 0: revision conflict
	// put 1 1
	// put 2 2
}

// An adapter that persists members elsewhere mirrors them in a Table: under
// its own lock it checks a change, persists the snapshot with the change
// applied, then applies the change, which feeds the watches.
func ExampleTable_ApplyPut() {
	tbl := memberlog.New(memberlog.Config{Name: "filerepo"})
	defer tbl.Close()
	persist := func(ms []core.Member, rev int64) { fmt.Println("persist", len(ms), "members at", rev) }

	m := core.Member{ID: core.NodeID{7}, Zone: "z1", Weight: 1}
	if err := tbl.CheckPut(m.ID, 0); err != nil {
		fmt.Println(err)
		return
	}
	ms, rev := tbl.Snapshot()
	m.Revision = rev + 1
	persist(append(ms, m), m.Revision)
	fmt.Println("applied at", tbl.ApplyPut(m))
	// Output:
	// persist 1 members at 1
	// applied at 1
}
