package etcdrepo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// alertWait is how long diagnose waits after a TLS handshake for the server
// to reject the client's certificate (TLS 1.3 servers do so after the
// client's side of the handshake has completed).
const alertWait = 200 * time.Millisecond

// diagnose connects to each endpoint the way the etcd client would, to name
// why none answered: a refused port, an untrusted server certificate, a
// client certificate the server refuses. The etcd client reports only a
// timeout. It returns "" when every endpoint accepted the connection.
func diagnose(ctx context.Context, endpoints []string, tc *tls.Config) string {
	var reasons []string
	for _, ep := range endpoints {
		if err := probe(ctx, ep, tc); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", ep, err))
		}
	}
	return strings.Join(reasons, "; ")
}

// probe dials one endpoint and, when TLS is in use, completes a handshake.
func probe(ctx context.Context, endpoint string, tc *tls.Config) error {
	host, secure := endpoint, tc != nil
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		if u.Scheme == "unix" || u.Scheme == "unixs" {
			return nil
		}
		host = u.Host
		secure = secure || u.Scheme == "https"
		if u.Scheme == "http" {
			secure = false
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !secure {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if tc != nil {
		cfg = tc.Clone()
	}
	if cfg.ServerName == "" {
		if h, _, err := net.SplitHostPort(host); err == nil {
			cfg.ServerName = h
		}
	}
	cfg.NextProtos = []string{"h2"}
	tlsConn := tls.Client(conn, cfg)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return err
	}
	_ = tlsConn.SetReadDeadline(time.Now().Add(alertWait))
	if _, err := tlsConn.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return nil
}
