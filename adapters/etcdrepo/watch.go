package etcdrepo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/core"
)

// Re-watch backoff: after an etcd watch ends without a reason to stop (lost
// leader, server restart the client did not ride out), the next one starts
// after minRewatchBackoff, doubling up to maxRewatchBackoff while attempts
// deliver nothing.
const (
	minRewatchBackoff = 50 * time.Millisecond
	maxRewatchBackoff = 2 * time.Second
)

// Watch delivers, in revision order and exactly once, every change to the
// members after revision after, following etcd across disconnections: the
// etcd client resumes its watch after a reconnect, and when the etcd watch
// ends anyway (lost leader, server restart) a new one starts at the last
// delivered revision + 1, with replayed events dropped. Progress
// notifications advance that resume point through quiet periods, so a
// resumption does not ask for history compacted meanwhile.
//
// Watch returns once etcd has accepted the watch, so a change made after it
// returns is delivered; it fails when etcd does not answer within the
// request timeout. A record that fails to decode is logged and reported as
// EventDelete of its member, the way List leaves it out. When etcd has
// compacted the history after after, the last event carries an error
// wrapping core.ErrCompacted: List again and watch from its revision.
func (r *Repo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	if after < 0 {
		return nil, fmt.Errorf("etcdrepo: watch after revision %d: %w", after, core.ErrInvalidInput)
	}
	_, cancelBegin, err := r.begin(ctx, "watch")
	if err != nil {
		return nil, err
	}
	cancelBegin()
	// ctx is the watch's lifetime; accepting it is one request.
	wait, cancelWait := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancelWait()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.root, cancel)
	c := &cursor{prefix: r.prefix, last: after, log: r.log}
	// The etcd client's Watch blocks until its stream is connected, so it
	// runs aside while this call waits at most the request timeout.
	var (
		wch     clientv3.WatchChan
		wcancel context.CancelFunc
		started = make(chan struct{})
	)
	go func() {
		defer close(started)
		wch, wcancel = r.watch(ctx, c)
	}()
	abort := func(err error) (<-chan core.MemberEvent, error) {
		cancel()
		<-started
		wcancel()
		stop()
		return nil, err
	}
	select {
	case <-started:
	case <-wait.Done():
		return abort(r.fail("watch: etcd did not accept the watch", wait.Err()))
	}
	select {
	case resp, ok := <-wch:
		if !ok || !resp.Created {
			return abort(r.fail("watch", cmp.Or(resp.Err(), wait.Err(), error(core.ErrClosed))))
		}
		if resp.Canceled {
			return abort(r.fail("watch", resp.Err()))
		}
	case <-wait.Done():
		return abort(r.fail("watch: etcd did not accept the watch", wait.Err()))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return abort(fmt.Errorf("etcdrepo: watch: %w", core.ErrClosed))
	}
	out := make(chan core.MemberEvent)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		r.follow(ctx, c, out, wch, wcancel)
	}()
	return out, nil
}

// watch starts an etcd watch of the prefix from c's position; its first
// response reports the creation.
func (r *Repo) watch(ctx context.Context, c *cursor) (clientv3.WatchChan, context.CancelFunc) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := r.cli.Watch(wctx, r.prefix, clientv3.WithPrefix(), clientv3.WithRev(c.last+1),
		clientv3.WithProgressNotify(), clientv3.WithCreatedNotify())
	return wch, cancel
}

// follow relays etcd watches, starting with wch, from c's position until
// ctx ends or one reports a reason to stop, which it sends as the last event.
func (r *Repo) follow(ctx context.Context, c *cursor, out chan<- core.MemberEvent, wch clientv3.WatchChan, cancel context.CancelFunc) {
	backoff := minRewatchBackoff
	for {
		start := c.last
		err := r.relay(ctx, c, wch, out)
		cancel()
		if err != nil {
			select {
			case out <- core.MemberEvent{Err: err, Revision: c.last}:
			case <-ctx.Done():
			}
			return
		}
		if c.last > start {
			backoff = minRewatchBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, maxRewatchBackoff)
		wch, cancel = r.watch(ctx, c)
	}
}

// relay forwards one etcd watch's events until it ends. It returns nil when
// the watch may be resumed (or ctx ended), else the error that ends Watch.
func (r *Repo) relay(ctx context.Context, c *cursor, wch clientv3.WatchChan, out chan<- core.MemberEvent) error {
	for resp := range wch {
		evs, next, err := c.step(resp)
		if err != nil {
			if retryable(err) {
				r.log.Warn("etcdrepo: watch interrupted, resuming", "prefix", r.prefix, "after", c.last, "error", err)
				return nil
			}
			return fmt.Errorf("etcdrepo: watch after revision %d: %w", c.last, err)
		}
		for _, ev := range evs {
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		c.last = max(c.last, next)
	}
	return nil
}

// retryable reports whether a watch that ended with err may resume on a new
// one: everything but compaction (the history is gone) and refused access
// (it will be refused again).
func retryable(err error) bool {
	switch {
	case errors.Is(err, core.ErrCompacted),
		errors.Is(err, rpctypes.ErrPermissionDenied),
		errors.Is(err, rpctypes.ErrAuthFailed),
		errors.Is(err, rpctypes.ErrUserEmpty):
		return false
	}
	return true
}

// cursor turns etcd watch responses into member events, exactly once: last
// is the revision up to which every change has been delivered.
type cursor struct {
	prefix string
	last   int64
	log    *slog.Logger
}

// step returns the events of resp not delivered yet and the position of the
// cursor once they are; an ended watch returns its error (core.ErrCompacted
// for compaction). A progress notification moves the position to its header
// revision: etcd sends one only when every earlier change has been sent.
func (c *cursor) step(resp clientv3.WatchResponse) ([]core.MemberEvent, int64, error) {
	if resp.CompactRevision != 0 {
		return nil, c.last, fmt.Errorf("history compacted up to revision %d: %w", resp.CompactRevision, core.ErrCompacted)
	}
	if err := resp.Err(); err != nil {
		return nil, c.last, err
	}
	if resp.IsProgressNotify() {
		return nil, resp.Header.Revision, nil
	}
	next := c.last
	evs := make([]core.MemberEvent, 0, len(resp.Events))
	for _, e := range resp.Events {
		rev := e.Kv.ModRevision
		if rev <= c.last {
			continue // replayed by a resumed watch: already delivered
		}
		next = max(next, rev)
		ev, ok := c.event(e)
		if ok {
			evs = append(evs, ev)
		}
	}
	return evs, next, nil
}

// event converts one etcd event; ok is false for a key that names no member.
func (c *cursor) event(e *clientv3.Event) (core.MemberEvent, bool) {
	rev := e.Kv.ModRevision
	id, err := keyID(c.prefix, e.Kv.Key)
	if err != nil {
		c.log.Warn("etcdrepo: ignoring change to a key that names no member", "key", string(e.Kv.Key), "revision", rev, "error", err)
		return core.MemberEvent{}, false
	}
	gone := core.MemberEvent{Type: core.EventDelete, Member: core.Member{ID: id, Revision: rev}, Revision: rev}
	if e.Type == mvccpb.DELETE {
		return gone, true
	}
	m, err := decodeMember(c.prefix, e.Kv.Key, e.Kv.Value, rev)
	if err != nil {
		c.log.Warn("etcdrepo: undecodable member record reported as deleted", "key", string(e.Kv.Key), "revision", rev, "error", err)
		return gone, true
	}
	return core.MemberEvent{Type: core.EventPut, Member: m, Revision: rev}, true
}
