package csvrepo

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Defaults for Open's options.
const (
	// DefaultPollInterval is how often a Repo checks its file for changes
	// written by other processes or Repo values, to feed its watches.
	DefaultPollInterval = time.Second
	// DefaultHistory is how many recent changes are kept for resuming watches.
	DefaultHistory = 4096
)

// Repo is a core.MemberRepo kept in one CSV file, safe for concurrent use by
// goroutines, by several Repo values and by several processes on one host.
type Repo struct {
	path    string
	poll    time.Duration
	history int
	lock    *os.File
	wg      sync.WaitGroup

	mu        sync.Mutex
	members   map[core.NodeID]core.Member
	rev       int64
	stamp     os.FileInfo // the file as last loaded or written; nil when absent
	log       []core.MemberEvent
	compacted int64
	epoch     uint64 // bumped when a reload cannot be replayed change by change
	changed   chan struct{}
	done      chan struct{}
	closed    bool
}

var _ core.MemberRepo = (*Repo)(nil)

// Option configures Open.
type Option func(*Repo)

// WithPollInterval sets how often the file is checked for outside changes
// (0 disables polling: outside changes are then seen at the next call).
func WithPollInterval(d time.Duration) Option { return func(r *Repo) { r.poll = max(d, 0) } }

// WithHistory sets how many recent changes are kept for resuming watches (at least 1).
func WithHistory(n int) Option { return func(r *Repo) { r.history = max(n, 1) } }

// Open loads the member file at path (a missing file is an empty registry,
// created on the first write) and takes path+".lock" as its lock file. A file
// with any bad row is refused whole, with every bad line listed.
func Open(path string, opts ...Option) (*Repo, error) {
	r := &Repo{
		path:    path,
		poll:    DefaultPollInterval,
		history: DefaultHistory,
		members: map[core.NodeID]core.Member{},
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("csvrepo: open lock file: %w", err)
	}
	r.lock = lock
	if err := r.refresh(); err != nil {
		lock.Close()
		return nil, err
	}
	r.compacted = r.rev
	if r.poll > 0 {
		r.wg.Add(1)
		go r.pollLoop()
	}
	return r, nil
}

// Path returns the member file's path.
func (r *Repo) Path() string { return r.path }

// Close stops polling, ends every watch and releases the lock file.
func (r *Repo) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	r.mu.Unlock()
	r.wg.Wait()
	return r.lock.Close()
}

func (r *Repo) pollLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.mu.Lock()
			// A bad file keeps the last good state; calls report the error.
			_ = r.refresh()
			r.mu.Unlock()
		}
	}
}

// begin checks that an operation may start and brings the state up to date
// with the file; callers hold r.mu.
func (r *Repo) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("csvrepo: %s: %w", op, err)
	}
	if r.closed {
		return fmt.Errorf("csvrepo: %s: %w", op, core.ErrClosed)
	}
	if err := r.refresh(); err != nil {
		return fmt.Errorf("csvrepo: %s: %w", op, err)
	}
	return nil
}

// List returns every member sorted by ID and the registry revision.
func (r *Repo) List(ctx context.Context) ([]core.Member, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.begin(ctx, "list"); err != nil {
		return nil, 0, err
	}
	out := make([]core.Member, 0, len(r.members))
	for _, m := range r.sorted() {
		out = append(out, m.Clone())
	}
	return out, r.rev, nil
}

// Get returns one member, or an error wrapping core.ErrNotFound.
func (r *Repo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.begin(ctx, "get"); err != nil {
		return core.Member{}, err
	}
	m, ok := r.members[id]
	if !ok {
		return core.Member{}, fmt.Errorf("csvrepo: get %s: %w", id.Short(), core.ErrNotFound)
	}
	return m.Clone(), nil
}

// Put stores m if its stored revision equals expect (0: absent; core.AnyRevision:
// no check). m.ID must be the NodeID of m.Certificate and m.Weight ≥ 0, so
// that the row loads back.
func (r *Repo) Put(ctx context.Context, m core.Member, expect int64) (int64, error) {
	if err := validate(m); err != nil {
		return 0, fmt.Errorf("csvrepo: put %s: %w", m.ID.Short(), err)
	}
	m = m.Clone()
	if len(m.Labels) == 0 {
		m.Labels = nil
	}
	return r.write(ctx, "put", m.ID, expect, false, func(rev int64) core.Member {
		m.Revision = rev
		return m
	})
}

// Delete removes a member if its revision equals expect (core.AnyRevision: no check).
func (r *Repo) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	return r.write(ctx, "delete", id, expect, true, func(rev int64) core.Member {
		return core.Member{ID: id, Revision: rev}
	})
}

// write runs one compare-and-set change under the file lock: reload the file
// if another writer changed it, check expect, write the whole new file
// crash-safely, then apply the change in memory and record it for watches.
func (r *Repo) write(ctx context.Context, op string, id core.NodeID, expect int64, del bool, build func(rev int64) core.Member) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("csvrepo: %s: %w", op, err)
	}
	if r.closed {
		return 0, fmt.Errorf("csvrepo: %s: %w", op, core.ErrClosed)
	}
	if err := lockFile(ctx, r.lock); err != nil {
		return 0, fmt.Errorf("csvrepo: %s: %w", op, err)
	}
	defer unlockFile(r.lock)
	if err := r.begin(ctx, op); err != nil {
		return 0, err
	}
	cur, exists := r.members[id]
	switch {
	case del && !exists:
		return 0, fmt.Errorf("csvrepo: %s %s: %w", op, id.Short(), core.ErrNotFound)
	case expect != core.AnyRevision && cur.Revision != expect:
		return 0, fmt.Errorf("csvrepo: %s %s: stored revision %d, expected %d: %w", op, id.Short(), cur.Revision, expect, core.ErrConflict)
	}
	m := build(r.rev + 1)
	next := maps.Clone(r.members)
	typ := core.EventPut
	if del {
		delete(next, id)
		typ = core.EventDelete
	} else {
		next[id] = m
	}
	stamp, err := writeFile(r.path, sortedByID(next), m.Revision)
	if err != nil {
		return 0, fmt.Errorf("csvrepo: %s %s: %w", op, id.Short(), err)
	}
	r.members, r.stamp = next, stamp
	r.record(core.MemberEvent{Type: typ, Member: m, Revision: m.Revision})
	return m.Revision, nil
}

func (r *Repo) sorted() []core.Member { return sortedByID(r.members) }

func sortedByID(ms map[core.NodeID]core.Member) []core.Member {
	out := slices.Collect(maps.Values(ms))
	slices.SortFunc(out, func(a, b core.Member) int { return slices.Compare(a.ID[:], b.ID[:]) })
	return out
}

// writeFile replaces path crash-safely: a temporary file in the same
// directory is written and fsynced, renamed over path, and the directory is
// fsynced so the rename itself survives a crash. It returns the new file's info.
func writeFile(path string, members []core.Member, rev int64) (os.FileInfo, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	bw := bufio.NewWriter(tmp)
	if _, err := fmt.Fprintf(bw, "%s%d\n", metaPrefix, rev); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := encode(bw, members, fileColumns); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("rename into place: %w", err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	return fi, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
