package repotest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
)

// change is a write the suite made and expects a watch to report.
type change struct {
	typ    core.EventType
	member core.Member
	rev    int64
}

// nextEvent waits up to Timeout for one event.
func nextEvent(t *testing.T, ch <-chan core.MemberEvent) core.MemberEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed early")
		}
		if ev.Err != nil {
			t.Fatalf("watch ended with error: %v", ev.Err)
		}
		return ev
	case <-time.After(Timeout):
		t.Fatalf("no watch event within %v", Timeout)
	}
	panic("unreachable")
}

// expectEvents checks that ch delivers exactly want, in order.
func expectEvents(t *testing.T, ch <-chan core.MemberEvent, want []change) {
	t.Helper()
	for i, w := range want {
		ev := nextEvent(t, ch)
		if ev.Type != w.typ || ev.Member.ID != w.member.ID || ev.Revision != w.rev {
			t.Fatalf("event %d: got %v %s at %d, want %v %s at %d", i, ev.Type, ev.Member.ID.Short(), ev.Revision, w.typ, w.member.ID.Short(), w.rev)
		}
		if w.typ == core.EventPut {
			wantSame(t, "watched member", ev.Member, w.member)
			if ev.Member.Revision != ev.Revision {
				t.Fatalf("event %d: member Revision %d, event Revision %d", i, ev.Member.Revision, ev.Revision)
			}
		}
	}
}

// writeHistory makes four changes (create a, create b, update a, delete b)
// and returns them.
func writeHistory(t *testing.T, r core.MemberRepo) []change {
	a, b := NewMember(t, 1), NewMember(t, 2)
	ra := mustPut(t, r, a, 0)
	rb := mustPut(t, r, b, 0)
	a2 := a
	a2.Rack, a2.Weight = "k7", 3
	ra2 := mustPut(t, r, a2, ra)
	rd, err := r.Delete(ctxT(t), b.ID, rb)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	return []change{
		{core.EventPut, a, ra},
		{core.EventPut, b, rb},
		{core.EventPut, a2, ra2},
		{core.EventDelete, b, rd},
	}
}

// watchFromNow lists r and watches it, under ctx, from the listed revision,
// which it returns.
func watchFromNow(t *testing.T, ctx context.Context, r core.MemberRepo) (<-chan core.MemberEvent, int64) {
	t.Helper()
	_, rev, err := r.List(ctxT(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	ch, err := r.Watch(ctx, rev)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	return ch, rev
}

func testWatchOrder(t *testing.T, r core.MemberRepo) {
	ch, _ := watchFromNow(t, ctxT(t), r)
	expectEvents(t, ch, writeHistory(t, r))
}

func testWatchResume(t *testing.T, r core.MemberRepo) {
	_, start, err := r.List(ctxT(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	hist := writeHistory(t, r)
	for i, after := range []int64{start, hist[0].rev, hist[2].rev} {
		ch, err := r.Watch(ctxT(t), after)
		if err != nil {
			t.Fatalf("Watch(%d): %v", after, err)
		}
		want := hist[[]int{0, 1, 3}[i]:]
		expectEvents(t, ch, want)
	}
	// Changes after the replayed history follow it on the same channel.
	ch, err := r.Watch(ctxT(t), hist[1].rev)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	c := NewMember(t, 3)
	rc := mustPut(t, r, c, 0)
	expectEvents(t, ch, append(hist[2:4:4], change{core.EventPut, c, rc}))
}

// waitClosed drains ch until it closes, failing after Timeout.
func waitClosed(t *testing.T, ch <-chan core.MemberEvent) {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("watch channel still open %v after cancel", Timeout)
		}
	}
}

func testWatchCancel(t *testing.T, r core.MemberRepo) {
	ctx, cancel := context.WithCancel(ctxT(t))
	ch, _ := watchFromNow(t, ctx, r)
	m := NewMember(t, 1)
	expectEvents(t, ch, []change{{core.EventPut, m, mustPut(t, r, m, 0)}})
	cancel()
	waitClosed(t, ch)
	// Writes after the cancel must not block on the abandoned watcher.
	for i := 2; i < 6; i++ {
		mustPut(t, r, NewMember(t, i), 0)
	}
}

func testWatchNoLeak(t *testing.T, r core.MemberRepo) {
	const watches = 25
	// One warm-up watch lets a backend start its shared machinery first.
	warm, cancelWarm := context.WithCancel(ctxT(t))
	ch, rev := watchFromNow(t, warm, r)
	cancelWarm()
	waitClosed(t, ch)
	before := stableGoroutines()
	ctx, cancel := context.WithCancel(ctxT(t))
	chans := make([]<-chan core.MemberEvent, watches)
	for i := range chans {
		var err error
		if chans[i], err = r.Watch(ctx, rev); err != nil {
			t.Fatalf("Watch %d: %v", i, err)
		}
	}
	mustPut(t, r, NewMember(t, 1), 0) // some watchers hold an undelivered event
	cancel()
	for _, ch := range chans {
		waitClosed(t, ch)
	}
	deadline := time.Now().Add(Timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= before+watches/5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after cancelling %d watches, %d before: watches leak goroutines", n, watches, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stableGoroutines returns the goroutine count once it stops falling.
func stableGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(5 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

func testDeepCopies(t *testing.T, r core.MemberRepo) {
	ch, rev := watchFromNow(t, ctxT(t), r)
	orig := NewMember(t, 1)
	in := orig.Clone()
	mustPut(t, r, in, 0)
	scribble := func(m core.Member) {
		m.Labels["index"] = "scribbled"
		m.Labels["extra"] = "x"
		m.Certificate[0] ^= 0xff
	}
	scribble(in)
	wantSame(t, "after mutating the member passed to Put", mustGet(t, r, orig.ID), orig)
	scribble(mustGet(t, r, orig.ID))
	wantSame(t, "after mutating a Get result", mustGet(t, r, orig.ID), orig)
	ms, _, err := r.List(ctxT(t))
	if err != nil || len(ms) != 1 {
		t.Fatalf("List: %d members, %v", len(ms), err)
	}
	scribble(ms[0])
	wantSame(t, "after mutating a List result", mustGet(t, r, orig.ID), orig)
	scribble(nextEvent(t, ch).Member)
	wantSame(t, "after mutating a watched member", mustGet(t, r, orig.ID), orig)
	ch2, err := r.Watch(ctxT(t), rev)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	wantSame(t, "replayed event after mutating another watcher's copy", nextEvent(t, ch2).Member, orig)
}

// race runs n writers at once and returns how many succeeded and the index
// of the winner; every loser must fail with ErrConflict.
func race(t *testing.T, n int, write func(i int) error) (wins, winner int) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	winner = -1
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := write(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = i
			case !errors.Is(err, core.ErrConflict):
				t.Errorf("writer %d: %v, want success or ErrConflict", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return wins, winner
}

func variant(m core.Member, i int) core.Member {
	m = m.Clone()
	m.Domain = "writer-" + string(rune('a'+i)) + ".test"
	m.Weight = 1 + i
	return m
}

func testConcurrentCreate(t *testing.T, r core.MemberRepo) {
	const writers = 16
	m := NewMember(t, 1)
	wins, winner := race(t, writers, func(i int) error {
		_, err := r.Put(ctxT(t), variant(m, i), 0)
		return err
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent creates succeeded, want exactly 1", wins, writers)
	}
	wantSame(t, "stored member", mustGet(t, r, m.ID), variant(m, winner))
}

func testConcurrentCAS(t *testing.T, r core.MemberRepo) {
	const writers, rounds = 8, 3
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, 0)
	for round := range rounds {
		wins, winner := race(t, writers, func(i int) error {
			_, err := r.Put(ctxT(t), variant(m, i+round*writers), rev)
			return err
		})
		if wins != 1 {
			t.Fatalf("round %d: %d of %d CAS writers succeeded, want exactly 1", round, wins, writers)
		}
		got := mustGet(t, r, m.ID)
		wantSame(t, "stored member", got, variant(m, winner+round*writers))
		rev = got.Revision
	}
}

func testCancelledContext(t *testing.T, r core.MemberRepo) {
	m := NewMember(t, 1)
	rev := mustPut(t, r, m, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fresh := NewMember(t, 2)
	_, err := r.Put(ctx, fresh, 0)
	wantErr(t, "Put with a cancelled context", err, context.Canceled)
	_, err = r.Delete(ctx, m.ID, rev)
	wantErr(t, "Delete with a cancelled context", err, context.Canceled)
	_, err = r.Get(ctx, m.ID)
	wantErr(t, "Get with a cancelled context", err, context.Canceled)
	_, _, err = r.List(ctx)
	wantErr(t, "List with a cancelled context", err, context.Canceled)
	if ch, err := r.Watch(ctx, rev); err == nil {
		waitClosed(t, ch)
	}
	if got := mustGet(t, r, m.ID); got.Revision != rev {
		t.Fatalf("cancelled Delete changed the member: revision %d, want %d", got.Revision, rev)
	}
	_, err = r.Get(ctxT(t), fresh.ID)
	wantErr(t, "Get of the member a cancelled Put tried to create", err, core.ErrNotFound)
}
