package etcdrepo

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/core"
)

// Defaults applied by Open to zero Config fields, and fixed client settings.
const (
	// DefaultPrefix is the key prefix members live under.
	DefaultPrefix = "/clustering/members/"
	// DefaultDialTimeout bounds Open's first contact with etcd: long enough
	// for a TLS handshake across a region, short enough that a node started
	// against a dead etcd reports it instead of hanging.
	DefaultDialTimeout = 5 * time.Second
	// DefaultRequestTimeout bounds one List, Get, Put, Delete or lease call
	// whose context has no deadline, as etcdctl's --command-timeout does. The
	// etcd client otherwise waits for a connection for as long as the context
	// allows.
	DefaultRequestTimeout = 5 * time.Second

	// keepAliveTime and keepAliveTimeout make the client ping an idle
	// connection and drop it when the ping is not answered, so that a
	// half-open TCP connection (etcd host lost without a FIN) is noticed in
	// seconds and the client fails over or reconnects.
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 5 * time.Second
)

// Config says how to reach etcd and where members live. Its fields can be
// filled from YAML (durations as "5s"); TLS and Logger are set in code.
type Config struct {
	// Endpoints are etcd client URLs, e.g. "https://10.0.0.1:2379".
	Endpoints []string `yaml:"endpoints" json:"endpoints"`
	// Prefix is the key prefix members live under (DefaultPrefix when
	// empty); a "/" is appended when missing so that "/a" and "/ab" never
	// overlap.
	Prefix string `yaml:"prefix" json:"prefix"`
	// DialTimeout bounds Open's first contact with etcd (DefaultDialTimeout
	// when zero).
	DialTimeout time.Duration `yaml:"dial_timeout" json:"dial_timeout"`
	// RequestTimeout bounds each call whose context has no deadline
	// (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// Username and Password authenticate to etcd when auth is enabled.
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
	// TLSFiles configures TLS from PEM files.
	TLSFiles TLSFiles `yaml:"tls" json:"tls"`
	// TLS, when set, is used as is (cloned) instead of TLSFiles.
	TLS *tls.Config `yaml:"-" json:"-"`
	// Logger receives the etcd client's logs and reports of records that
	// fail to decode (slog.Default() when nil).
	Logger *slog.Logger `yaml:"-" json:"-"`
}

// TLSFiles names the PEM files of a TLS connection to etcd. With none set
// and only http:// endpoints, the connection is plain TCP.
type TLSFiles struct {
	// CAFile holds the CA certificates that sign etcd's server certificates
	// (the system roots when empty).
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// CertFile and KeyFile hold the client certificate and key, for etcd
	// started with --client-cert-auth. Both or neither.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	KeyFile  string `yaml:"key_file" json:"key_file"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `yaml:"server_name" json:"server_name"`
}

// isZero reports whether no file or name is set.
func (f TLSFiles) isZero() bool { return f == TLSFiles{} }

// withDefaults returns c with defaults applied, or why it cannot be used.
func (c Config) withDefaults() (Config, error) {
	if len(c.Endpoints) == 0 {
		return c, fmt.Errorf("etcdrepo: config: no endpoints: %w", core.ErrInvalidInput)
	}
	for _, ep := range c.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return c, fmt.Errorf("etcdrepo: config: empty endpoint: %w", core.ErrInvalidInput)
		}
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.DialTimeout < 0 || c.RequestTimeout < 0 {
		return c, fmt.Errorf("etcdrepo: config: negative timeout: %w", core.ErrInvalidInput)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if (c.Username == "") != (c.Password == "") {
		return c, fmt.Errorf("etcdrepo: config: username and password go together: %w", core.ErrInvalidInput)
	}
	if c.TLS != nil && !c.TLSFiles.isZero() {
		return c, fmt.Errorf("etcdrepo: config: both TLS and TLSFiles set: %w", core.ErrInvalidInput)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// tlsConfig returns the client TLS configuration, or nil for plain TCP.
// Configurations built from files require TLS 1.3, whose key exchange in Go
// 1.24+ is the hybrid X25519MLKEM768 by default, so the link to etcd is
// protected against harvest-now-decrypt-later too.
func (c Config) tlsConfig() (*tls.Config, error) {
	if c.TLS != nil {
		return c.TLS.Clone(), nil
	}
	secure := false
	for _, ep := range c.Endpoints {
		if strings.HasPrefix(ep, "https://") || strings.HasPrefix(ep, "unixs://") {
			secure = true
		}
	}
	f := c.TLSFiles
	if f.isZero() && !secure {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcdrepo: tls: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcdrepo: tls: %s: no PEM certificate: %w", f.CAFile, core.ErrInvalidInput)
		}
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, fmt.Errorf("etcdrepo: tls: cert_file and key_file go together: %w", core.ErrInvalidInput)
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcdrepo: tls: client certificate: %v: %w", err, core.ErrInvalidInput)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// clientConfig returns the etcd client configuration for c (defaults applied).
func (c Config) clientConfig() (clientv3.Config, error) {
	tc, err := c.tlsConfig()
	if err != nil {
		return clientv3.Config{}, err
	}
	return clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          c.DialTimeout,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		Username:             c.Username,
		Password:             c.Password,
		TLS:                  tc,
		Logger:               newZapLogger(c.Logger.Handler()),
	}, nil
}
