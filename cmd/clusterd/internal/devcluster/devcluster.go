// Package devcluster is "clusterd dev": three nodes in one process on
// 127.0.0.1 with a throwaway PKI, configured through the same YAML files and
// code path as "clusterd run", that form a cluster, place keys, lose a node
// to a crash, re-place its keys and shut down cleanly, narrating each step.
package devcluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/node"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
)

// Options tunes Run.
type Options struct {
	// Verbose copies the nodes' logs to Log.
	Verbose bool
	// Keep leaves the temporary directory in place.
	Keep bool
	// Log receives the nodes' logs when Verbose (os.Stderr when nil).
	Log io.Writer
}

// The demo's cast and props.
var (
	names = []string{"node-1", "node-2", "node-3"}
	zones = []string{"zone-a", "zone-b", "zone-c"}
	keys  = []string{"user:42", "order:1001", "session:9f3a", "cart:7", "invoice:2024-117", "video:cat.mp4", "tenant:acme", "report:q3"}
)

// replicas is how many owners the demo shows a key.
const replicas = 2

// stepTimeout bounds each wait of the story (joining, detection, leaving).
const stepTimeout = 60 * time.Second

// demo is one run of the story.
type demo struct {
	out   io.Writer
	opts  Options
	dir   string
	start time.Time

	mu    sync.Mutex
	nodes []*member
	// events receives every membership event any node sees.
	events chan seen
	// before is where the keys were placed before the crash.
	before placement
}

// member is one node of the demo.
type member struct {
	name string
	id   core.NodeID
	conn *cuttableConn
	node *node.Node
	cfg  string
}

// seen is a membership event and who saw it.
type seen struct {
	at       time.Duration
	observer string
	ev       swim.Event
}

// Run tells the whole story on out, removing its temporary directory at the end.
func Run(ctx context.Context, out io.Writer, o Options) (err error) {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	dir, err := os.MkdirTemp("", "clusterd-dev-")
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	d := &demo{out: out, opts: o, dir: dir, start: time.Now(), events: make(chan seen, 256)}
	defer func() {
		d.closeAll()
		if o.Keep {
			d.say("\nKept %s (PKI and node configurations).\n", dir)
			return
		}
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("dev: remove %s: %w", dir, rerr)
		}
	}()
	d.say("clusterd dev: a three-node cluster on 127.0.0.1 whose trust rests on post-quantum cryptography\n")
	steps := []func(context.Context) error{d.makePKI, d.startNodes, d.showMembers, d.showKeys, d.crash, d.shutdown}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	d.say("\n%s\n", closing(dir, o.Keep, time.Since(d.start)))
	return nil
}

// closing is the story's last line: what happens to dir (removed unless
// kept, which the deferred cleanup then reports) and how long it took.
func closing(dir string, keep bool, took time.Duration) string {
	if keep {
		return fmt.Sprintf("Done in %.1fs.", took.Seconds())
	}
	return fmt.Sprintf("Removed %s. Done in %.1fs.", dir, took.Seconds())
}

// say prints to the story.
func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// elapsed is the time since the story began.
func (d *demo) elapsed() time.Duration { return time.Since(d.start) }

// nameOf names a node by ID.
func (d *demo) nameOf(id core.NodeID) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.nodes {
		if m.id == id {
			return m.name
		}
	}
	return id.Short()
}

// makePKI makes the throwaway PKI and the nodes' configuration files.
func (d *demo) makePKI(context.Context) error {
	d.say("\n1. A throwaway PKI in %s\n", d.dir)
	p, err := devpki.New(d.dir, "clusterd dev", pqc.MLDSA65, time.Now())
	if err != nil {
		return err
	}
	d.say("   root CA          %-30q %s\n", p.Root.Subject.CommonName, p.Scheme.Name())
	d.say("   intermediate CA  %-30q signed by the root\n", p.Intermediate.Subject.CommonName)
	for i, name := range names {
		n, err := p.Node(name, net.IPv4(127, 0, 0, 1))
		if err != nil {
			return err
		}
		conn, err := listenLoopback()
		if err != nil {
			return err
		}
		m := &member{name: name, id: n.ID, conn: conn, cfg: filepath.Join(d.dir, name+".yaml")}
		d.mu.Lock()
		d.nodes = append(d.nodes, m)
		d.mu.Unlock()
		if err := d.writeConfig(m, n, p, zones[i]); err != nil {
			return err
		}
		d.say("   %-16s %s  %s.crt (leaf + intermediate), %s.key, %s.yaml\n", name, n.ID.Short(), name, name, name)
	}
	return nil
}

// writeConfig writes a node's YAML configuration: the same file format
// "clusterd run" reads, seeded with node-1.
func (d *demo) writeConfig(m *member, n devpki.Node, p *devpki.PKI, zone string) error {
	seeds := ""
	if first := d.nodes[0]; first != m {
		seeds = fmt.Sprintf("seeds: [%q]\n", first.id.String()+"@"+first.conn.LocalAddr().String())
	}
	yaml := fmt.Sprintf(`# %[1]s: written by clusterd dev
identity: {cert: %[2]q, key: %[3]q}
listen: %[4]q
%[5]sjoin_timeout: 10s
topology: {region: dev, zone: %[6]s, rack: rack-1, weight: 1}
repo: {kind: csv, csv: {path: members.csv}}
trust: {roots: %[7]q}
swim: {profile: local}
placement: {replicas: %[8]d}
admin: {socket: %[1]s.sock}
log: {level: info}
`, m.name, filepath.Base(n.CertFile), filepath.Base(n.KeyFile), m.conn.LocalAddr().String(), seeds, zone, filepath.Base(p.RootFile), replicas)
	return os.WriteFile(m.cfg, []byte(yaml), 0o600)
}

// logger returns a node's logger.
func (d *demo) logger(name string) *slog.Logger {
	if !d.opts.Verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(d.opts.Log, &slog.HandlerOptions{Level: slog.LevelInfo})).With("dev", name)
}

// startNodes starts the three nodes from their configuration files.
func (d *demo) startNodes(ctx context.Context) error {
	d.say("\n2. Start the nodes: X-Wing (X25519 + ML-KEM-768) handshakes signed with ML-DSA-65, SWIM local profile\n")
	began := time.Now()
	for i, m := range d.nodes {
		c, err := config.Load(m.cfg)
		if err != nil {
			return err
		}
		opts, err := node.FromConfig(ctx, c, d.logger(m.name))
		if err != nil {
			return err
		}
		opts.Conn = m.conn // bound already, so the seeds could name its port
		opts.Events = d.observe(m.name)
		n, err := node.Start(ctx, opts)
		if err != nil {
			return fmt.Errorf("dev: start %s: %w", m.name, err)
		}
		d.mu.Lock()
		m.node = n
		d.mu.Unlock()
		how := "the first node: a new cluster"
		if i > 0 {
			how = "joined through node-1"
		}
		d.say("   %-7s %s  %s, %s\n", m.name, n.Addr(), zones[i], how)
	}
	if err := d.waitAll(ctx, func(n *node.Node) bool { return len(n.View().Members) == len(d.nodes) }); err != nil {
		return fmt.Errorf("dev: the nodes did not all see each other: %w", err)
	}
	d.say("   every node sees all three alive %.1fs after the first started\n", time.Since(began).Seconds())
	return nil
}

// observe returns a node's event hook, which forwards to d.events.
func (d *demo) observe(name string) func(swim.Event) {
	return func(ev swim.Event) {
		select {
		case d.events <- seen{at: d.elapsed(), observer: name, ev: ev}:
		default: // the story only needs the events it waits for
		}
	}
}

// waitAll waits until ok holds for every running node.
func (d *demo) waitAll(ctx context.Context, ok func(*node.Node) bool) error {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	for _, m := range d.running() {
		if _, err := m.node.WaitView(ctx, func(*node.View) bool { return ok(m.node) }); err != nil {
			return err
		}
	}
	return nil
}

// running returns the members whose nodes are up.
func (d *demo) running() []*member {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*member
	for _, m := range d.nodes {
		if m.node != nil && !m.conn.isCut() {
			out = append(out, m)
		}
	}
	return out
}

// closeAll stops every node still running, without a word.
func (d *demo) closeAll() {
	d.mu.Lock()
	nodes := d.nodes
	d.mu.Unlock()
	for _, m := range nodes {
		if m.node != nil {
			m.node.Close()
		} else if m.conn != nil {
			m.conn.Close()
		}
	}
}

// cuttableConn is a UDP socket that can go silent at once, as a crashed
// host does: writes vanish and reads see nothing. It hides the UDP socket's
// other methods, so no fast path can go around the cut.
type cuttableConn struct {
	udp *net.UDPConn
	cut atomic.Bool
}

var _ core.PacketConn = (*cuttableConn)(nil)

func listenLoopback() (*cuttableConn, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	return &cuttableConn{udp: c}, nil
}

// WriteTo drops everything once the connection is cut.
func (c *cuttableConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.udp.WriteTo(b, addr)
}

// ReadFrom discards what arrives once the connection is cut.
func (c *cuttableConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.udp.ReadFrom(b)
		if err != nil || !c.cut.Load() {
			return n, addr, err
		}
	}
}

func (c *cuttableConn) Close() error                       { return c.udp.Close() }
func (c *cuttableConn) LocalAddr() net.Addr                { return c.udp.LocalAddr() }
func (c *cuttableConn) SetDeadline(t time.Time) error      { return c.udp.SetDeadline(t) }
func (c *cuttableConn) SetReadDeadline(t time.Time) error  { return c.udp.SetReadDeadline(t) }
func (c *cuttableConn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }

// crash cuts the connection.
func (c *cuttableConn) crash() { c.cut.Store(true) }

func (c *cuttableConn) isCut() bool { return c.cut.Load() }
