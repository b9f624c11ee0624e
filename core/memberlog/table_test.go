package memberlog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/snowmerak/clustering/core/memberlog"
)

func TestContract(t *testing.T) {
	repotest.Run(t, func(t *testing.T) core.MemberRepo {
		tbl := memberlog.New(memberlog.Config{})
		t.Cleanup(func() { _ = tbl.Close() })
		return tbl
	})
}

// member returns a small record with ID {b}; no certificate is needed here.
func member(b byte) core.Member {
	return core.Member{ID: core.NodeID{b}, Region: "eu", Zone: "eu-1", Rack: "r1", Weight: 1,
		Labels: map[string]string{"n": string('a' + rune(b))}, Certificate: []byte{b, b}}
}

// first returns the first event of a watch from after.
func first(t *testing.T, tbl *memberlog.Table, after int64) core.MemberEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := tbl.Watch(ctx, after)
	if err != nil {
		t.Fatalf("Watch(%d): %v", after, err)
	}
	ev, ok := recv(t, ch)
	if !ok {
		t.Fatalf("Watch(%d) closed without an event", after)
	}
	return ev
}

// recv waits for the next event or the close of ch, failing after a while.
func recv(t *testing.T, ch <-chan core.MemberEvent) (core.MemberEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(repotest.Timeout):
		t.Fatalf("no event or close within %v", repotest.Timeout)
	}
	panic("unreachable")
}

func mustPut(t *testing.T, tbl *memberlog.Table, m core.Member, expect int64) int64 {
	t.Helper()
	rev, err := tbl.Put(context.Background(), m, expect)
	if err != nil {
		t.Fatalf("Put(%s, %d): %v", m.ID.Short(), expect, err)
	}
	return rev
}

func TestHistoryKeepsTheLastConfiguredChanges(t *testing.T) {
	tests := []struct {
		name    string
		history int
		kept    int
	}{
		{"One", 1, 1},
		{"Three", 3, 3},
		{"ZeroMeansDefault", 0, memberlog.DefaultHistory},
		{"NegativeMeansDefault", -5, memberlog.DefaultHistory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl := memberlog.New(memberlog.Config{History: tc.history})
			defer tbl.Close()
			writes := tc.kept + 2
			for range writes {
				mustPut(t, tbl, member(1), core.AnyRevision)
			}
			oldest := int64(writes - tc.kept) // revision just before the kept ones
			if ev := first(t, tbl, oldest); ev.Err != nil || ev.Revision != oldest+1 {
				t.Fatalf("Watch(%d): got revision %d, error %v; want revision %d", oldest, ev.Revision, ev.Err, oldest+1)
			}
			if ev := first(t, tbl, oldest-1); !errors.Is(ev.Err, core.ErrCompacted) {
				t.Fatalf("Watch(%d): got %+v, want ErrCompacted", oldest-1, ev)
			}
		})
	}
}

func TestErrorsNameTheRepository(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, prefix string }{{"", "memberlog: "}, {"memrepo", "memrepo: "}} {
		tbl := memberlog.New(memberlog.Config{Name: tc.name, History: 1})
		stored := mustPut(t, tbl, member(1), 0)
		mustPut(t, tbl, member(1), stored)
		_, getErr := tbl.Get(ctx, member(9).ID)
		_, zeroErr := tbl.Put(ctx, core.Member{}, 0)
		_, conflictErr := tbl.Put(ctx, member(1), stored)
		_, deleteErr := tbl.Delete(ctx, member(9).ID, core.AnyRevision)
		compactedErr := first(t, tbl, 0).Err
		tbl.Close()
		_, _, closedErr := tbl.List(ctx)
		for _, c := range []struct {
			op     string
			err    error
			target error
		}{
			{"Get of a missing member", getErr, core.ErrNotFound},
			{"Put of a zero ID", zeroErr, core.ErrInvalidInput},
			{"Put with a stale revision", conflictErr, core.ErrConflict},
			{"Delete of a missing member", deleteErr, core.ErrNotFound},
			{"Watch before the history", compactedErr, core.ErrCompacted},
			{"List after Close", closedErr, core.ErrClosed},
		} {
			if !errors.Is(c.err, c.target) || !strings.HasPrefix(c.err.Error(), tc.prefix) {
				t.Errorf("Name %q: %s: got %v, want an error starting %q wrapping %v", tc.name, c.op, c.err, tc.prefix, c.target)
			}
		}
	}
}

func TestChecksApplyPutAndDeleteRules(t *testing.T) {
	tbl := memberlog.New(memberlog.Config{})
	defer tbl.Close()
	stored := mustPut(t, tbl, member(1), 0)
	present, absent := member(1).ID, member(2).ID
	tests := []struct {
		name   string
		check  func(core.NodeID, int64) error
		id     core.NodeID
		expect int64
		want   error // nil: the change may proceed
	}{
		{"PutAbsentExpectingZeroProceeds", tbl.CheckPut, absent, 0, nil},
		{"PutAbsentExpectingARevisionConflicts", tbl.CheckPut, absent, stored, core.ErrConflict},
		{"PutPresentExpectingItsRevisionProceeds", tbl.CheckPut, present, stored, nil},
		{"PutPresentExpectingZeroConflicts", tbl.CheckPut, present, 0, core.ErrConflict},
		{"PutAnyRevisionProceeds", tbl.CheckPut, present, core.AnyRevision, nil},
		{"DeleteAbsentIsNotFound", tbl.CheckDelete, absent, core.AnyRevision, core.ErrNotFound},
		{"DeletePresentExpectingItsRevisionProceeds", tbl.CheckDelete, present, stored, nil},
		{"DeletePresentExpectingAnotherConflicts", tbl.CheckDelete, present, stored + 1, core.ErrConflict},
		{"DeleteAnyRevisionProceeds", tbl.CheckDelete, present, core.AnyRevision, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.id, tc.expect)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if _, rev := tbl.Snapshot(); rev != stored {
				t.Fatalf("a check changed the revision to %d", rev)
			}
		})
	}
}

func TestApplyRecordsAtTheNextRevisionWithoutChecks(t *testing.T) {
	tbl := memberlog.New(memberlog.Config{})
	mustPut(t, tbl, member(1), 0)
	stale := member(1)
	stale.Revision, stale.Weight = 99, 5 // Apply ignores the Revision it is given
	if rev := tbl.ApplyPut(stale); rev != 2 {
		t.Fatalf("ApplyPut: revision %d, want 2", rev)
	}
	if ev := first(t, tbl, 1); ev.Type != core.EventPut || ev.Revision != 2 || ev.Member.Revision != 2 || ev.Member.Weight != 5 {
		t.Fatalf("event after ApplyPut: %+v", ev)
	}
	if rev := tbl.ApplyDelete(member(1).ID); rev != 3 {
		t.Fatalf("ApplyDelete: revision %d, want 3", rev)
	}
	if ev := first(t, tbl, 2); ev.Type != core.EventDelete || ev.Revision != 3 || ev.Member.ID != member(1).ID {
		t.Fatalf("event after ApplyDelete: %+v", ev)
	}
	tbl.Close()
	tbl.ApplyPut(member(2)) // an owner may still mirror its store after Close
	if ms, rev := tbl.Snapshot(); rev != 4 || len(ms) != 1 || ms[0].ID != member(2).ID {
		t.Fatalf("Snapshot after Close: %d members at %d, want member 2 at 4", len(ms), rev)
	}
}

func TestResetEndsWatchesInProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tbl := memberlog.New(memberlog.Config{Name: "filerepo"})
	defer tbl.Close()
	running, err := tbl.Watch(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, tbl, member(1), 0)
	if ev, _ := recv(t, running); ev.Err != nil || ev.Revision != 1 {
		t.Fatalf("event before Reset: %+v", ev)
	}
	loaded := member(2)
	loaded.Revision = 7
	tbl.Reset([]core.Member{loaded}, 10, "the file was replaced")
	ev, ok := recv(t, running)
	if !ok || !errors.Is(ev.Err, core.ErrCompacted) || !strings.Contains(ev.Err.Error(), "the file was replaced") {
		t.Fatalf("watch in progress after Reset: %+v (open %v), want ErrCompacted giving the reason", ev, ok)
	}
	if _, open := recv(t, running); open {
		t.Fatal("watch channel must close after its error event")
	}
	ms, rev, err := tbl.List(ctx)
	if err != nil || rev != 10 || len(ms) != 1 || ms[0].ID != loaded.ID || ms[0].Revision != 7 {
		t.Fatalf("List after Reset: %d members at %d, %v", len(ms), rev, err)
	}
	if err := tbl.CheckPut(loaded.ID, 7); err != nil {
		t.Fatalf("CheckPut with the reset member's revision: %v", err)
	}
	if ev := first(t, tbl, 9); !errors.Is(ev.Err, core.ErrCompacted) {
		t.Fatalf("Watch from before the reset revision: %+v, want ErrCompacted", ev)
	}
	next := mustPut(t, tbl, member(3), 0)
	if ev := first(t, tbl, 10); ev.Err != nil || ev.Revision != next || next != 11 {
		t.Fatalf("Watch from the reset revision: %+v, want the put at 11", ev)
	}
	waiting, err := tbl.Watch(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	tbl.Reset(nil, next, "")
	if ev, _ := recv(t, waiting); !errors.Is(ev.Err, core.ErrCompacted) || !strings.Contains(ev.Err.Error(), "the history was reset") {
		t.Fatalf("watch in progress after a Reset without a reason: %+v", ev)
	}
}

func TestSnapshotIsASortedDeepCopy(t *testing.T) {
	tbl := memberlog.New(memberlog.Config{})
	defer tbl.Close()
	for _, b := range []byte{3, 1, 2} {
		mustPut(t, tbl, member(b), 0)
	}
	ms, rev := tbl.Snapshot()
	if rev != 3 || len(ms) != 3 {
		t.Fatalf("Snapshot: %d members at %d", len(ms), rev)
	}
	for i, m := range ms {
		if m.ID != member(byte(i+1)).ID {
			t.Fatalf("member %d is %s, want sorted by ID", i, m.ID.Short())
		}
		m.Labels["n"] = "scribbled"
		m.Certificate[0] ^= 0xff
	}
	got, err := tbl.Get(context.Background(), member(1).ID)
	if err != nil || got.Labels["n"] != "b" || got.Certificate[0] != 1 {
		t.Fatalf("stored member changed through a Snapshot: %+v, %v", got, err)
	}
}
