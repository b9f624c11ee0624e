package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
)

// process is one clusterd run in a child process.
type process struct {
	name   string
	cmd    *exec.Cmd
	socket string
	mu     sync.Mutex
	logs   bytes.Buffer
	done   chan struct{}
	err    error
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait returns the exit error once the process ends, or fails after d.
func (p *process) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("%s did not exit within %v", p.name, d)
		return nil
	}
}

// threeNodes is clusterd processes on 127.0.0.1 sharing a CSV registry.
type threeNodes struct {
	t     *testing.T
	bin   string
	dir   string
	pki   *devpki.PKI
	nodes map[string]devpki.Node
	procs []*process
	// crl, when set, is every node's revocation list file.
	crl string
}

// newThreeNodes makes the PKI of the named nodes; at the end of the test
// every process still running is killed (and its log shown on failure).
func newThreeNodes(t *testing.T, names ...string) *threeNodes {
	c := &threeNodes{t: t, bin: clusterdBin.Path(t), dir: shortDir(t)}
	c.pki, c.nodes = testPKI(t, c.dir, names...)
	t.Cleanup(func() {
		for _, p := range c.procs {
			if !p.exited() {
				p.cmd.Process.Kill()
				<-p.done
			}
			if t.Failed() {
				t.Logf("---- %s log ----\n%s", p.name, p.output())
			}
		}
	})
	return c
}

// id is the NodeID of the named node, as the admin socket writes it.
func (c *threeNodes) id(name string) string { return c.nodes[name].ID.String() }

// startAll starts the named nodes, the first as the seed of the others,
// and waits until every one sees every other alive.
func (c *threeNodes) startAll(names ...string) []*process {
	c.t.Helper()
	first := c.start(names[0])
	var st admin.Status
	require.True(c.t, until(20*time.Second, func() bool { return c.query(first, "status", &st) == nil }), "%s did not come up", names[0])
	procs := []*process{first}
	for i, name := range names[1:] {
		seed := c.id(names[0]) + "@" + st.Addr
		if i%2 == 1 {
			seed = st.Addr // address only: the trust roots vouch for the seed
		}
		procs = append(procs, c.start(name, seed))
	}
	require.True(c.t, until(30*time.Second, func() bool {
		for _, p := range procs {
			s := c.states(p)
			if len(s) != len(names) {
				return false
			}
			for _, name := range names {
				if s[c.id(name)] != "alive" {
					return false
				}
			}
		}
		return true
	}), "the processes did not all see each other alive")
	return procs
}

// swimOverrides make detection take seconds; the bound is computed from them.
const swimOverrides = "swim: {profile: local, probe_interval: 500ms, probe_timeout: 150ms}\n"

func (c *threeNodes) start(name string, seeds ...string) *process {
	c.t.Helper()
	n := c.nodes[name]
	crl := ""
	if c.crl != "" {
		crl = fmt.Sprintf(", revocation_lists: [%q]", c.crl)
	}
	seedList := ""
	if len(seeds) > 0 {
		seedList = fmt.Sprintf("seeds: [%q]\n", strings.Join(seeds, `", "`))
	}
	cfg := fmt.Sprintf(`identity: {cert: %q, key: %q}
listen: 127.0.0.1:0
%sjoin_timeout: 20s
topology: {region: test, zone: zone-%s, rack: r1, weight: 1}
repo: {kind: csv, csv: {path: members.csv, poll_interval: 100ms}}
trust: {roots: %q%s}
%smetrics: {listen: "127.0.0.1:0"}
admin: {socket: %s.sock}
log: {level: debug, format: text}
`, n.CertFile, n.KeyFile, seedList, name, c.pki.RootFile, crl, swimOverrides, name)
	path := filepath.Join(c.dir, name+".yaml")
	require.NoError(c.t, os.WriteFile(path, []byte(cfg), 0o600))
	p := &process{name: name, socket: filepath.Join(c.dir, name+".sock"), done: make(chan struct{})}
	p.cmd = exec.Command(c.bin, "run", "-config", path)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(c.t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	return p
}

// query asks a process's admin socket through the clusterd binary, as an
// operator would.
func (c *threeNodes) query(p *process, command string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, command, "-socket", p.socket, "-json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clusterd %s: %w: %s", command, err, stderr.String())
	}
	return json.Unmarshal(stdout.Bytes(), out)
}

// states returns the member states a process reports, by ID.
func (c *threeNodes) states(p *process) map[string]string {
	var ms []admin.Member
	if err := c.query(p, "members", &ms); err != nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.ID] = m.State
	}
	return out
}

// until polls cond every 100ms for d.
func until(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

var metricsURL = regexp.MustCompile(`metrics=(http://\S+/metrics)`)

// The done-when: three clusterd processes on 127.0.0.1 form a
// cluster, detect a kill -9 within the configured bound, and leave cleanly
// on SIGTERM.
func TestThreeProcesses(t *testing.T) {
	c := newThreeNodes(t, "n1", "n2", "n3")
	id := c.id
	procs := c.startAll("n1", "n2", "n3")
	n1, n2, n3 := procs[0], procs[1], procs[2]

	// The shared CSV registry holds the three records, each written by its node.
	repo, err := csvrepo.Open(filepath.Join(c.dir, "members.csv"), csvrepo.WithPollInterval(0))
	require.NoError(t, err)
	registered, _, err := repo.List(context.Background())
	require.NoError(t, err)
	require.NoError(t, repo.Close())
	assert.Len(t, registered, 3)

	checkMetrics(t, n1)

	// kill -9 n3: the others declare it dead within the configured bound.
	parsed, err := config.Parse([]byte("identity: {cert: c, key: k}\ntrust: {roots: r}\n"+swimOverrides), c.dir)
	require.NoError(t, err)
	sc, err := parsed.SWIMConfig()
	require.NoError(t, err)
	bound := sc.DetectionBound(3)
	require.NoError(t, n3.cmd.Process.Kill())
	killed := time.Now()
	require.True(t, until(bound, func() bool {
		return c.states(n1)[id("n3")] == "dead" && c.states(n2)[id("n3")] == "dead"
	}), "n3 not declared dead by both within %v", bound)
	t.Logf("n3 declared dead by n1 and n2 %v after kill -9 (bound %v)", time.Since(killed).Round(time.Millisecond), bound)

	// SIGTERM n2: it leaves gracefully, exits 0, and n1 sees it left.
	require.NoError(t, n2.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, n2.wait(t, 15*time.Second), "n2 exit status")
	assert.Contains(t, n2.output(), "shutting down: leaving the cluster")
	require.True(t, until(5*time.Second, func() bool { return c.states(n1)[id("n2")] == "left" }), "n1 did not see n2 leave")

	require.NoError(t, n1.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, n1.wait(t, 15*time.Second), "n1 exit status")
	_, err = os.Stat(n1.socket)
	assert.ErrorIs(t, err, os.ErrNotExist, "the admin socket is removed on exit")
	for _, p := range procs {
		assert.NotContains(t, p.output(), "panic")
		assert.NotContains(t, p.output(), "DATA RACE")
	}
	var exit *exec.ExitError
	assert.True(t, errors.As(n3.err, &exit) && exit.ExitCode() == -1, "n3 was killed: %v", n3.err)
}

// scrape fetches a Prometheus text page as series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	series := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		series[line[:i]] = v
	}
	return series
}

// checkMetrics scrapes a process's /metrics and checks a few series.
func checkMetrics(t *testing.T, p *process) {
	t.Helper()
	m := metricsURL.FindStringSubmatch(p.output())
	require.Len(t, m, 2, "no metrics address in the log")
	var series map[string]float64
	until(5*time.Second, func() bool { // the first probe may still be due
		series = scrape(t, m[1])
		return series["clusterd_swim_probe_rtt_seconds_count"] > 0
	})
	assert.Equal(t, 3.0, series[`clusterd_members{state="alive"}`])
	assert.Equal(t, 2.0, series["clusterd_transport_sessions"])
	assert.GreaterOrEqual(t, series["clusterd_transport_handshakes_total"], 2.0)
	assert.Zero(t, series[`clusterd_transport_handshake_failures_total{reason="untrusted_certificate_chain"}`])
	assert.Positive(t, series[`clusterd_transport_bytes_total{direction="in"}`])
	assert.Positive(t, series[`clusterd_transport_packets_total{direction="out"}`])
	assert.Positive(t, series["clusterd_swim_probes_total"])
	assert.Positive(t, series["clusterd_swim_probe_rtt_seconds_count"])
	assert.Contains(t, series, "clusterd_transport_replay_drops_total")
	assert.Contains(t, series, "clusterd_transport_cookie_replies_total")
	assert.Contains(t, series, "clusterd_transport_rekeys_total")
}

// A certificate revoked while the cluster runs: the CA's new revocation
// list reaches n1 by SIGHUP and n2 by "clusterd reload"; both declare n3
// dead and refuse it from then on, without a restart.
func TestRevocationReachesRunningProcesses(t *testing.T) {
	c := newThreeNodes(t, "n1", "n2", "n3")
	empty, err := c.pki.Revoke(1)
	require.NoError(t, err)
	c.crl = filepath.Join(c.dir, "cluster.crl")
	copyFile(t, empty, c.crl)
	procs := c.startAll("n1", "n2", "n3")
	n1, n2 := procs[0], procs[1]

	revokesN3, err := c.pki.Revoke(2, c.nodes["n3"].Chain[0])
	require.NoError(t, err)
	copyFile(t, revokesN3, c.crl)
	require.NoError(t, n1.cmd.Process.Signal(syscall.SIGHUP))
	var r admin.Reload
	require.NoError(t, c.query(n2, "reload", &r))
	assert.Equal(t, 1, r.Revoked)
	assert.Equal(t, 1, r.Evicted, "n2 did not declare n3 dead")

	require.True(t, until(10*time.Second, func() bool {
		return c.states(n1)[c.id("n3")] == "dead" && c.states(n2)[c.id("n3")] == "dead"
	}), "n1 and n2 did not both declare the revoked n3 dead")
	assert.Regexp(t, `trust reloaded.*revoked=1.*evicted=1`, n1.output(), "n1 did not act on SIGHUP")
	for _, p := range []*process{n1, n2} {
		assert.Equal(t, "alive", c.states(p)[c.id("n1")])
		assert.Equal(t, "alive", c.states(p)[c.id("n2")])
	}
}

// copyFile replaces dst's content with src's.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}
