// Package etcdtest runs single-node etcd servers inside the test process, on
// 127.0.0.1 with random free ports, fast elections and quiet logs, for the
// tests and examples of etcdrepo. A server keeps its data directory across
// Stop, so Restart brings the same keyspace back on the same ports.
//
// Close etcd clients before stopping a server: with a watch open, Stop
// waits out etcd's request timeout (about 5 s) before cutting the stream.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// StartTimeout bounds a server's start (WAL replay and election).
const StartTimeout = 20 * time.Second

// Options tunes a server.
type Options struct {
	// TLS, when set, serves clients over https with these files.
	TLS *transport.TLSInfo
	// ProgressNotify is the watch progress notification interval (etcd's
	// default, 10 minutes, when zero).
	ProgressNotify time.Duration
}

// Server is a single-node etcd running in this process.
type Server struct {
	dir          string
	client, peer url.URL
	opts         Options

	mu sync.Mutex
	e  *embed.Etcd
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns a loopback TCP port with nothing listening, for tests of
// unreachable endpoints.
func FreePort() (int, error) { return freePort() }

// Start starts a server with its data in dir.
func Start(dir string, opts Options) (*Server, error) {
	cp, err := freePort()
	if err != nil {
		return nil, err
	}
	pp, err := freePort()
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	s := &Server{
		dir:    dir,
		client: url.URL{Scheme: scheme, Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(cp))},
		peer:   url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(pp))},
		opts:   opts,
	}
	return s, s.start()
}

// New starts a server in a temporary directory and stops it when the test
// ends. Register clients' cleanups after calling New so they run first.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() error {
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = s.dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{s.client}, []url.URL{s.client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{s.peer}, []url.URL{s.peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs, cfg.ElectionMs = 10, 50 // elect the single member in milliseconds
	cfg.UnsafeNoFsync = true            // tests stop the server, never crash the host
	cfg.BcryptCost = 4                  // bcrypt.MinCost: auth tests hash passwords in microseconds
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.WatchProgressNotifyInterval = s.opts.ProgressNotify
	if s.opts.TLS != nil {
		cfg.ClientTLSInfo = *s.opts.TLS
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(StartTimeout):
		e.Close()
		return fmt.Errorf("etcd not ready within %v", StartTimeout)
	}
	s.mu.Lock()
	s.e = e
	s.mu.Unlock()
	return nil
}

// Endpoint returns the client URL.
func (s *Server) Endpoint() string { return s.client.String() }

// Stop stops the server, keeping its data directory; stopping twice is fine.
func (s *Server) Stop() {
	s.mu.Lock()
	e := s.e
	s.e = nil
	s.mu.Unlock()
	if e != nil {
		e.Close() // returns once every server goroutine has
	}
}

// Restart starts the stopped server again on the same data and ports.
func (s *Server) Restart() error {
	if err := s.start(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}
