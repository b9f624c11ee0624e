package csvrepo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Environment of the writer subprocess (see TestMain).
const (
	envHelperPath  = "CSVREPO_HELPER_PATH"
	envHelperFirst = "CSVREPO_HELPER_FIRST"
	envHelperCount = "CSVREPO_HELPER_COUNT"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envHelperPath); path != "" {
		os.Exit(helperWriter(path))
	}
	goleak.VerifyTestMain(m)
}

// helperTB lets the subprocess build members with repotest's helpers.
type helperTB struct{ testing.TB }

func (helperTB) Helper() {}
func (helperTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

// helperWriter creates members [first, first+count) in the file at path.
func helperWriter(path string) int {
	first, _ := strconv.Atoi(os.Getenv(envHelperFirst))
	count, _ := strconv.Atoi(os.Getenv(envHelperCount))
	r, err := csvrepo.Open(path, csvrepo.WithPollInterval(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	for i := first; i < first+count; i++ {
		if _, err := r.Put(context.Background(), repotest.NewMember(helperTB{}, i), 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func open(t *testing.T, path string, opts ...csvrepo.Option) *csvrepo.Repo {
	t.Helper()
	r, err := csvrepo.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestContract(t *testing.T) {
	for _, poll := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(fmt.Sprintf("Poll%v", poll), func(t *testing.T) {
			repotest.Run(t, func(t *testing.T) core.MemberRepo {
				return open(t, filepath.Join(t.TempDir(), "members.csv"), csvrepo.WithPollInterval(poll))
			})
		})
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "members.csv")
	r := open(t, path)
	ms := repotest.NewMembers(t, 5)
	for _, m := range ms {
		_, err := r.Put(ctx, m, 0)
		require.NoError(t, err)
	}
	_, err := r.Delete(ctx, ms[2].ID, core.AnyRevision)
	require.NoError(t, err)
	want, wantRev, err := r.List(ctx)
	require.NoError(t, err)
	require.NoError(t, r.Close())

	got, gotRev, err := open(t, path).List(ctx)
	require.NoError(t, err)
	require.Equal(t, wantRev, gotRev, "registry revision survives (deletes included)")
	require.Equal(t, want, got)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 2, "only the file and its lock remain: no temporary files")
}

func TestPutRefusesRowsThatWouldNotLoad(t *testing.T) {
	r := open(t, filepath.Join(t.TempDir(), "members.csv"))
	good := repotest.NewMember(t, 1)
	tests := []struct {
		name   string
		mutate func(m *core.Member)
	}{
		{"IDNotOfCertificate", func(m *core.Member) { m.ID = repotest.NewMember(t, 2).ID }},
		{"CertificateNotDER", func(m *core.Member) { m.Certificate = []byte("not a certificate") }},
		{"NegativeWeight", func(m *core.Member) { m.Weight = -1 }},
		{"EmptyLabelKey", func(m *core.Member) { m.Labels = map[string]string{"": "x"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := good.Clone()
			tc.mutate(&m)
			_, err := r.Put(context.Background(), m, core.AnyRevision)
			require.ErrorIs(t, err, core.ErrInvalidInput)
			_, err = os.Stat(r.Path())
			require.True(t, errors.Is(err, os.ErrNotExist), "a refused Put writes no file")
		})
	}
}

// TestTwoReposCompareAndSet increments one member's weight from two Repo
// values on the same file with read-modify-write retried on conflict: the
// lock and the reload before each write must lose no increment.
func TestTwoReposCompareAndSet(t *testing.T) {
	const perWriter = 25
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "members.csv")
	a, b := open(t, path, csvrepo.WithPollInterval(0)), open(t, path, csvrepo.WithPollInterval(0))
	m := repotest.NewMember(t, 1)
	m.Weight = 0
	_, err := a.Put(ctx, m, 0)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, r := range []*csvrepo.Repo{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < perWriter; {
				cur, err := r.Get(ctx, m.ID)
				if !assert.NoError(t, err) {
					return
				}
				cur.Weight++
				_, err = r.Put(ctx, cur, cur.Revision)
				if errors.Is(err, core.ErrConflict) {
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				done++
			}
		}()
	}
	wg.Wait()
	for _, r := range []*csvrepo.Repo{a, b, open(t, path)} {
		got, err := r.Get(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, 4*perWriter, got.Weight)
	}
}

// TestSubprocessWritersLoseNothing runs two writer processes and this one on
// the same file at once: every member each created must be in the file.
func TestSubprocessWritersLoseNothing(t *testing.T) {
	const perWriter = 15
	path := filepath.Join(t.TempDir(), "members.csv")
	var cmds []*exec.Cmd
	for w := 1; w <= 2; w++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envHelperPath+"="+path,
			envHelperFirst+"="+strconv.Itoa(w*perWriter), envHelperCount+"="+strconv.Itoa(perWriter))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	r := open(t, path, csvrepo.WithPollInterval(0))
	for i := range perWriter {
		_, err := r.Put(context.Background(), repotest.NewMember(t, i), 0)
		require.NoError(t, err)
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	ms, rev, err := open(t, path).List(context.Background())
	require.NoError(t, err)
	require.Len(t, ms, 3*perWriter)
	require.Equal(t, int64(3*perWriter), rev)
	for i := range 3 * perWriter {
		_, err := r.Get(context.Background(), repotest.NewMember(t, i).ID)
		require.NoError(t, err, "member %d", i)
	}
}

func TestReadersNeverSeeAPartialFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.csv")
	r := open(t, path, csvrepo.WithPollInterval(0))
	ctx := context.Background()
	_, err := r.Put(ctx, repotest.NewMember(t, 0), 0)
	require.NoError(t, err)
	stop := make(chan struct{})
	var reads int
	done := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			f, err := os.Open(path)
			if err != nil {
				done <- err
				return
			}
			_, err = csvrepo.Import(f)
			f.Close()
			if err != nil {
				done <- err
				return
			}
			reads++
		}
	}()
	for i := 1; i < 40; i++ {
		_, err := r.Put(ctx, repotest.NewMember(t, i), 0)
		require.NoError(t, err)
	}
	close(stop)
	require.NoError(t, <-done)
	require.Positive(t, reads)
}
