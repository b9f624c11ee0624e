package etcdrepo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/core"
)

// listPageSize is how many members one List request fetches; pages are read
// at the first page's revision, so a List is one consistent snapshot however
// many pages it takes.
const listPageSize = 256

// maxDiagnoseTime bounds the connection checks that explain a failed Open.
const maxDiagnoseTime = 2 * time.Second

// Repo is a core.MemberRepo stored in etcd, safe for concurrent use.
type Repo struct {
	cli    *clientv3.Client
	prefix string
	cfg    Config
	log    *slog.Logger

	root     context.Context // cancelled by Close: ends watches and keep-alives
	shutdown context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // watch and keep-alive goroutines
}

var _ core.MemberRepo = (*Repo)(nil)

// Open connects to etcd and checks, within cfg.DialTimeout, that the member
// prefix can be read, so that a wrong endpoint, certificate or password is
// reported here rather than at the first write. ctx bounds only the opening.
func Open(ctx context.Context, cfg Config) (*Repo, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ccfg, err := cfg.clientConfig()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("etcdrepo: open %v: %w", cfg.Endpoints, err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, cfg.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(1)); err != nil {
		_ = cli.Close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			dctx, dcancel := context.WithTimeout(ctx, min(cfg.DialTimeout, maxDiagnoseTime))
			defer dcancel()
			if why := diagnose(dctx, cfg.Endpoints, ccfg.TLS); why != "" {
				return nil, fmt.Errorf("etcdrepo: open %v: etcd not reachable within %v (%s): %w", cfg.Endpoints, cfg.DialTimeout, why, err)
			}
			return nil, fmt.Errorf("etcdrepo: open %v: etcd not reachable within %v: %w", cfg.Endpoints, cfg.DialTimeout, err)
		}
		return nil, fmt.Errorf("etcdrepo: open %v: read %q: %w", cfg.Endpoints, cfg.Prefix, err)
	}
	root, shutdown := context.WithCancel(context.Background())
	return &Repo{cli: cli, prefix: cfg.Prefix, cfg: cfg, log: cfg.Logger, root: root, shutdown: shutdown}, nil
}

// Prefix returns the key prefix members live under.
func (r *Repo) Prefix() string { return r.prefix }

// Close ends every watch and registration keep-alive (registered members
// then expire after their TTL), waits for their goroutines and closes the
// client. Later calls fail with core.ErrClosed.
func (r *Repo) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.shutdown()
	r.mu.Unlock()
	r.wg.Wait()
	if err := r.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcdrepo: close: %w", err)
	}
	return nil
}

// begin checks that an operation may start and returns its context, bounded
// by RequestTimeout when ctx has no deadline.
func (r *Repo) begin(ctx context.Context, op string) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("etcdrepo: %s: %w", op, err)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, nil, fmt.Errorf("etcdrepo: %s: %w", op, core.ErrClosed)
	}
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	return ctx, cancel, nil
}

// fail wraps an etcd error with op, reporting core.ErrClosed when the
// repository was closed during the call and core.ErrCompacted for etcd's.
func (r *Repo) fail(op string, err error) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("etcdrepo: %s: %w (%v)", op, core.ErrClosed, err)
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcdrepo: %s: %v: %w", op, err, core.ErrCompacted)
	}
	return fmt.Errorf("etcdrepo: %s: %w", op, err)
}

// List returns every member, sorted by ID, and the etcd revision of the
// snapshot. Records that fail to decode are logged and left out, as Watch
// reports them deleted.
func (r *Repo) List(ctx context.Context) ([]core.Member, int64, error) {
	ctx, cancel, err := r.begin(ctx, "list")
	if err != nil {
		return nil, 0, err
	}
	defer cancel()
	var (
		out  []core.Member
		rev  int64
		from = r.prefix
		end  = clientv3.GetPrefixRangeEnd(r.prefix)
	)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := r.cli.Get(ctx, from, opts...)
		if err != nil {
			return nil, 0, r.fail("list", err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
			out = make([]core.Member, 0, resp.Count)
		}
		for _, kv := range resp.Kvs {
			m, err := decodeMember(r.prefix, kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				r.log.Warn("etcdrepo: skipping undecodable member record", "key", string(kv.Key), "revision", kv.ModRevision, "error", err)
				continue
			}
			out = append(out, m)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Get returns one member, or an error wrapping core.ErrNotFound; a record
// that fails to decode is an error wrapping core.ErrInvalidInput.
func (r *Repo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	ctx, cancel, err := r.begin(ctx, "get")
	if err != nil {
		return core.Member{}, err
	}
	defer cancel()
	resp, err := r.cli.Get(ctx, memberKey(r.prefix, id))
	if err != nil {
		return core.Member{}, r.fail("get "+id.Short(), err)
	}
	if len(resp.Kvs) == 0 {
		return core.Member{}, fmt.Errorf("etcdrepo: get %s: %w", id.Short(), core.ErrNotFound)
	}
	kv := resp.Kvs[0]
	m, err := decodeMember(r.prefix, kv.Key, kv.Value, kv.ModRevision)
	if err != nil {
		return core.Member{}, fmt.Errorf("etcdrepo: get: %w", err)
	}
	return m, nil
}

// Put stores m in one etcd transaction if the key's revision equals expect:
// expect 0 compares CreateRevision with 0 (the member must not exist), a
// positive expect compares ModRevision, core.AnyRevision compares nothing.
// It returns the new revision. Replacing a member keeps the key's lease, so
// an update of a registered member does not make it outlive its node. m must
// pass the same checks as csvrepo's (ID of the certificate, Weight ≥ 0).
func (r *Repo) Put(ctx context.Context, m core.Member, expect int64) (int64, error) {
	if expect < core.AnyRevision {
		return 0, fmt.Errorf("etcdrepo: put %s: expected revision %d: %w", m.ID.Short(), expect, core.ErrInvalidInput)
	}
	val, err := encodeMember(m)
	if err != nil {
		return 0, fmt.Errorf("etcdrepo: put %s: %w", m.ID.Short(), err)
	}
	ctx, cancel, err := r.begin(ctx, "put")
	if err != nil {
		return 0, err
	}
	defer cancel()
	key := memberKey(r.prefix, m.ID)
	keep := clientv3.OpPut(key, string(val), clientv3.WithIgnoreLease())
	fresh := clientv3.OpPut(key, string(val))
	current := clientv3.OpGet(key, clientv3.WithKeysOnly())
	txn := r.cli.Txn(ctx)
	switch {
	case expect == core.AnyRevision:
		txn = txn.If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0)).Then(keep).Else(fresh)
	case expect == 0:
		txn = txn.If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(fresh).Else(current)
	default:
		txn = txn.If(clientv3.Compare(clientv3.ModRevision(key), "=", expect)).Then(keep).Else(current)
	}
	resp, err := txn.Commit()
	if err != nil {
		return 0, r.fail("put "+m.ID.Short(), err)
	}
	if !resp.Succeeded && expect != core.AnyRevision {
		return 0, fmt.Errorf("etcdrepo: put %s: stored revision %d, expected %d: %w", m.ID.Short(), storedRevision(resp), expect, core.ErrConflict)
	}
	return resp.Header.Revision, nil
}

// Delete removes a member in one etcd transaction if its ModRevision equals
// expect (core.AnyRevision: no check) and returns the revision of the
// removal; a missing member is core.ErrNotFound.
func (r *Repo) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	if expect < core.AnyRevision {
		return 0, fmt.Errorf("etcdrepo: delete %s: expected revision %d: %w", id.Short(), expect, core.ErrInvalidInput)
	}
	ctx, cancel, err := r.begin(ctx, "delete")
	if err != nil {
		return 0, err
	}
	defer cancel()
	key := memberKey(r.prefix, id)
	txn := r.cli.Txn(ctx)
	if expect != core.AnyRevision {
		txn = txn.If(clientv3.Compare(clientv3.ModRevision(key), "=", expect))
	}
	resp, err := txn.Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).Commit()
	if err != nil {
		return 0, r.fail("delete "+id.Short(), err)
	}
	if resp.Succeeded {
		if resp.Responses[0].GetResponseDeleteRange().GetDeleted() == 0 {
			return 0, fmt.Errorf("etcdrepo: delete %s: %w", id.Short(), core.ErrNotFound)
		}
		return resp.Header.Revision, nil
	}
	stored := storedRevision(resp)
	if stored == 0 {
		return 0, fmt.Errorf("etcdrepo: delete %s: %w", id.Short(), core.ErrNotFound)
	}
	return 0, fmt.Errorf("etcdrepo: delete %s: stored revision %d, expected %d: %w", id.Short(), stored, expect, core.ErrConflict)
}

// storedRevision returns the ModRevision read by a failed transaction's Else
// branch, or 0 when the key does not exist.
func storedRevision(resp *clientv3.TxnResponse) int64 {
	if len(resp.Responses) == 0 {
		return 0
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return 0
	}
	return kvs[0].ModRevision
}
