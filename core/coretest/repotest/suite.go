package repotest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Timeout bounds every wait of the suite (an event, a channel close); it is
// generous so that slow backends pass and only a real hang fails.
const Timeout = 10 * time.Second

// Run runs the MemberRepo contract against repositories made by open, which
// must return a fresh, empty repository for each call (and register its own
// cleanup with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) core.MemberRepo) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r core.MemberRepo)
	}{
		{"ListOfEmptyRepoIsEmpty", testListEmpty},
		{"ListIsSortedByIDWithRevisions", testListSorted},
		{"GetReturnsEveryField", testGetRoundTrip},
		{"GetMissingIsNotFound", testGetMissing},
		{"PutExpectZeroCreatesOnlyOnce", testPutCreate},
		{"PutWrongRevisionConflicts", testPutConflict},
		{"PutRightRevisionUpdates", testPutUpdate},
		{"PutAnyRevisionIsUnconditional", testPutAny},
		{"RevisionsIncreaseAcrossMembers", testRevisionsIncrease},
		{"DeleteFollowsRevisionRules", testDelete},
		{"WatchDeliversChangesInOrder", testWatchOrder},
		{"WatchResumesFromOlderRevision", testWatchResume},
		{"WatchClosesOnCancel", testWatchCancel},
		{"WatchLeaksNoGoroutine", testWatchNoLeak},
		{"ReturnedRecordsAreDeepCopies", testDeepCopies},
		{"ConcurrentCreatesHaveOneWinner", testConcurrentCreate},
		{"ConcurrentCASHasOneWinner", testConcurrentCAS},
		{"CancelledContextFailsAndWritesNothing", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*Timeout)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, r core.MemberRepo, m core.Member, expect int64) int64 {
	t.Helper()
	rev, err := r.Put(ctxT(t), m, expect)
	if err != nil {
		t.Fatalf("Put(%s, expect %d): %v", m.ID.Short(), expect, err)
	}
	return rev
}

func mustGet(t *testing.T, r core.MemberRepo, id core.NodeID) core.Member {
	t.Helper()
	m, err := r.Get(ctxT(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id.Short(), err)
	}
	return m
}

func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %v", op, err, target)
	}
}

func wantSame(t *testing.T, what string, got, want core.Member) {
	t.Helper()
	if d := Equal(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

func testListEmpty(t *testing.T, r core.MemberRepo) {
	ms, _, err := r.List(ctxT(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(ms) != 0 {
		t.Fatalf("List of an empty repo returned %d members", len(ms))
	}
}

func testListSorted(t *testing.T, r core.MemberRepo) {
	ms := NewMembers(t, 12)
	revs := map[core.NodeID]int64{}
	var last int64
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(ms)) {
		last = mustPut(t, r, ms[i], 0)
		revs[ms[i].ID] = last
	}
	got, rev, err := r.List(ctxT(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(ms) {
		t.Fatalf("List returned %d members, want %d", len(got), len(ms))
	}
	if rev < last {
		t.Fatalf("List revision %d is older than the last write %d", rev, last)
	}
	for i, m := range got {
		if i > 0 && string(got[i-1].ID[:]) >= string(m.ID[:]) {
			t.Fatalf("List not sorted by ID at %d: %s then %s", i, got[i-1].ID.Short(), m.ID.Short())
		}
		if m.Revision != revs[m.ID] {
			t.Fatalf("member %s: Revision %d, Put returned %d", m.ID.Short(), m.Revision, revs[m.ID])
		}
	}
	for _, want := range ms {
		wantSame(t, "listed member", mustGet(t, r, want.ID), want)
	}
}

func testGetRoundTrip(t *testing.T, r core.MemberRepo) {
	for i, m := range NewMembers(t, 3) {
		if i == 1 {
			m.Labels = nil
		}
		rev := mustPut(t, r, m, 0)
		got := mustGet(t, r, m.ID)
		wantSame(t, "Get", got, m)
		if got.Revision != rev {
			t.Fatalf("Get Revision %d, Put returned %d", got.Revision, rev)
		}
	}
}

func testGetMissing(t *testing.T, r core.MemberRepo) {
	mustPut(t, r, NewMember(t, 1), 0)
	_, err := r.Get(ctxT(t), NewMember(t, 2).ID)
	wantErr(t, "Get of a missing member", err, core.ErrNotFound)
}

func testPutCreate(t *testing.T, r core.MemberRepo) {
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, 0)
	if rev <= 0 {
		t.Fatalf("Put returned revision %d, want > 0", rev)
	}
	again := m
	again.Domain = "other.test"
	_, err := r.Put(ctxT(t), again, 0)
	wantErr(t, "second Put with expect 0", err, core.ErrConflict)
	got := mustGet(t, r, m.ID)
	wantSame(t, "after refused create", got, m)
	if got.Revision != rev {
		t.Fatalf("refused create changed the revision: %d, want %d", got.Revision, rev)
	}
}

func testPutConflict(t *testing.T, r core.MemberRepo) {
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, 0)
	changed := m
	changed.Weight = 42
	for _, expect := range []int64{rev + 1, rev - 1, rev + 1000} {
		_, err := r.Put(ctxT(t), changed, expect)
		wantErr(t, fmt.Sprintf("Put with expect %d (stored %d)", expect, rev), err, core.ErrConflict)
	}
	wantSame(t, "after conflicts", mustGet(t, r, m.ID), m)
	missing := NewMember(t, 2)
	_, err := r.Put(ctxT(t), missing, rev)
	wantErr(t, "Put of a missing member with a non-zero expect", err, core.ErrConflict)
	_, err = r.Get(ctxT(t), missing.ID)
	wantErr(t, "Get after refused Put", err, core.ErrNotFound)
}

func testPutUpdate(t *testing.T, r core.MemberRepo) {
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, 0)
	renewed := m
	renewed.Certificate = RenewIdentity(t, 1).Certificate
	renewed.Zone, renewed.Weight = "z9", 7
	rev2 := mustPut(t, r, renewed, rev)
	if rev2 <= rev {
		t.Fatalf("update returned revision %d, not after %d", rev2, rev)
	}
	got := mustGet(t, r, m.ID)
	wantSame(t, "after update", got, renewed)
	if got.Revision != rev2 {
		t.Fatalf("Revision %d after update, want %d", got.Revision, rev2)
	}
	_, err := r.Put(ctxT(t), m, rev)
	wantErr(t, "Put with the superseded revision", err, core.ErrConflict)
}

func testPutAny(t *testing.T, r core.MemberRepo) {
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, core.AnyRevision)
	m.Domain = "any.test"
	rev2 := mustPut(t, r, m, core.AnyRevision)
	if rev2 <= rev {
		t.Fatalf("AnyRevision update returned %d, not after %d", rev2, rev)
	}
	wantSame(t, "after AnyRevision update", mustGet(t, r, m.ID), m)
}

func testRevisionsIncrease(t *testing.T, r core.MemberRepo) {
	ms := NewMembers(t, 4)
	var last int64
	check := func(op string, rev int64) {
		t.Helper()
		if rev <= last {
			t.Fatalf("%s returned revision %d, not after the previous write's %d", op, rev, last)
		}
		last = rev
	}
	for _, m := range ms {
		check("Put", mustPut(t, r, m, 0))
	}
	rev, err := r.Delete(ctxT(t), ms[0].ID, core.AnyRevision)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	check("Delete", rev)
	check("Put after Delete", mustPut(t, r, ms[1], core.AnyRevision))
	check("re-create", mustPut(t, r, ms[0], 0))
}

func testDelete(t *testing.T, r core.MemberRepo) {
	m, other := NewMember(t, 1), NewMember(t, 2)
	rev := mustPut(t, r, m, 0)
	mustPut(t, r, other, 0)
	for _, expect := range []int64{core.AnyRevision, 0, rev} {
		_, err := r.Delete(ctxT(t), NewMember(t, 3).ID, expect)
		wantErr(t, fmt.Sprintf("Delete of a missing member (expect %d)", expect), err, core.ErrNotFound)
	}
	for _, expect := range []int64{rev + 1, rev - 1, 0} {
		_, err := r.Delete(ctxT(t), m.ID, expect)
		wantErr(t, fmt.Sprintf("Delete with expect %d (stored %d)", expect, rev), err, core.ErrConflict)
	}
	mustGet(t, r, m.ID)
	drev, err := r.Delete(ctxT(t), m.ID, rev)
	if err != nil {
		t.Fatalf("Delete with the right revision: %v", err)
	}
	if drev <= rev {
		t.Fatalf("Delete returned revision %d, not after %d", drev, rev)
	}
	_, err = r.Get(ctxT(t), m.ID)
	wantErr(t, "Get after Delete", err, core.ErrNotFound)
	_, err = r.Delete(ctxT(t), m.ID, core.AnyRevision)
	wantErr(t, "second Delete", err, core.ErrNotFound)
	if _, err := r.Delete(ctxT(t), other.ID, core.AnyRevision); err != nil {
		t.Fatalf("Delete with AnyRevision: %v", err)
	}
	ms, _, err := r.List(ctxT(t))
	if err != nil || len(ms) != 0 {
		t.Fatalf("List after deleting everything: %d members, %v", len(ms), err)
	}
}
