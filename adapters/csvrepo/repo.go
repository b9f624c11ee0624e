package csvrepo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/memberlog"
)

// Defaults for Open's options.
const (
	// DefaultPollInterval is how often a Repo checks its file for changes
	// written by other processes or Repo values, to feed its watches.
	DefaultPollInterval = time.Second
	// DefaultHistory is how many recent changes are kept for resuming watches.
	DefaultHistory = memberlog.DefaultHistory
)

// Repo is a core.MemberRepo kept in one CSV file, safe for concurrent use by
// goroutines, by several Repo values and by several processes on one host.
type Repo struct {
	path    string
	poll    time.Duration
	history int
	lock    *os.File
	wg      sync.WaitGroup
	// table mirrors the file and serves reads and watches; it changes only
	// under mu, after the file does.
	table *memberlog.Table

	mu     sync.Mutex    // orders file access and changes to table
	stamp  os.FileInfo   // the file as last loaded or written; nil when absent
	done   chan struct{} // closed by Close: stops polling
	closed bool
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
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("csvrepo: open lock file: %w", err)
	}
	members, rev, stamp, err := load(path)
	if err != nil {
		lock.Close()
		return nil, err
	}
	r.lock, r.stamp = lock, stamp
	// The history starts at the loaded revision: the file holds no earlier changes.
	r.table = memberlog.New(memberlog.Config{Name: "csvrepo", History: r.history})
	r.table.Reset(slices.Collect(maps.Values(members)), rev, unreplayable)
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
	r.table.Close()
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

// catchUp checks that a read may start and brings the table up to date with
// the file; the read itself is served by the table.
func (r *Repo) catchUp(ctx context.Context, op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.begin(ctx, op)
}

// List returns every member sorted by ID and the registry revision.
func (r *Repo) List(ctx context.Context) ([]core.Member, int64, error) {
	if err := r.catchUp(ctx, "list"); err != nil {
		return nil, 0, err
	}
	return r.table.List(ctx)
}

// Get returns one member, or an error wrapping core.ErrNotFound.
func (r *Repo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	if err := r.catchUp(ctx, "get"); err != nil {
		return core.Member{}, err
	}
	return r.table.Get(ctx, id)
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
	return r.write(ctx, "put", m, expect, false)
}

// Delete removes a member if its revision equals expect (core.AnyRevision: no check).
func (r *Repo) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	return r.write(ctx, "delete", core.Member{ID: id}, expect, true)
}

// write runs one compare-and-set change of m (a removal of m.ID when del)
// under the file lock: reload the file if another writer changed it, check
// expect, write the whole new file crash-safely, then apply the change to the
// table, which records it for watches.
func (r *Repo) write(ctx context.Context, op string, m core.Member, expect int64, del bool) (int64, error) {
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
	check := r.table.CheckPut
	if del {
		check = r.table.CheckDelete
	}
	if err := check(m.ID, expect); err != nil {
		return 0, fmt.Errorf("csvrepo: %s %s: %w", op, m.ID.Short(), err)
	}
	members, rev := r.table.Snapshot()
	rev++
	m.Revision = rev
	stamp, err := writeFile(r.path, withChange(members, m, del), rev)
	if err != nil {
		return 0, fmt.Errorf("csvrepo: %s %s: %w", op, m.ID.Short(), err)
	}
	r.stamp = stamp
	if del {
		return r.table.ApplyDelete(m.ID), nil
	}
	return r.table.ApplyPut(m), nil
}

// withChange returns members (sorted by ID) with m stored in ID order, or
// with m.ID removed when del.
func withChange(members []core.Member, m core.Member, del bool) []core.Member {
	i, found := slices.BinarySearchFunc(members, m.ID, func(x core.Member, id core.NodeID) int {
		return bytes.Compare(x.ID[:], id[:])
	})
	switch {
	case del && found:
		members = slices.Delete(members, i, i+1)
	case found:
		members[i] = m
	case !del:
		members = slices.Insert(members, i, m)
	}
	return members
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
