package etcdrepo_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// testCA is a throwaway ECDSA CA for the link to etcd (not the project's
// ML-DSA PKI), issuing certificates into a directory as PEM files.
type testCA struct {
	t    *testing.T
	dir  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	// File is the CA certificate's PEM file.
	File string
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca := &testCA{t: t, dir: dir, key: key, cert: cert, File: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// issue writes a certificate for 127.0.0.1 usable by servers and clients
// and returns its certificate and key files.
func (ca *testCA) issue(name string, serial int64) (certFile, keyFile string) {
	t := ca.t
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", pkcs8)
	return certFile, keyFile
}

func TestTLSToEtcd(t *testing.T) {
	dir := t.TempDir()
	ca, otherCA := newTestCA(t, dir, "etcd-ca"), newTestCA(t, dir, "other-ca")
	serverCert, serverKey := ca.issue("server", 2)
	clientCert, clientKey := ca.issue("client", 3)
	strangerCert, strangerKey := otherCA.issue("stranger", 4)
	s := etcdtest.New(t, etcdtest.Options{TLS: &transport.TLSInfo{
		CertFile: serverCert, KeyFile: serverKey, TrustedCAFile: ca.File, ClientCertAuth: true,
	}})
	require.True(t, strings.HasPrefix(s.Endpoint(), "https://"))

	// Built by hand to observe the handshake, which the etcd client does not expose.
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	var (
		mu    sync.Mutex
		seen  []tls.ConnectionState
		probe = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13,
			VerifyConnection: func(cs tls.ConnectionState) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, cs)
				return nil
			}}
	)

	tests := []struct {
		name     string
		endpoint string
		files    etcdrepo.TLSFiles
		tls      *tls.Config
		ok       bool
		// reason is what the error must say when the connection is refused.
		reason string
	}{
		{"FilesWithClientCertificate", s.Endpoint(), etcdrepo.TLSFiles{CAFile: ca.File, CertFile: clientCert, KeyFile: clientKey}, nil, true, ""},
		{"ConfigInCode", s.Endpoint(), etcdrepo.TLSFiles{}, probe, true, ""},
		{"ServerFromUnknownCAIsRefused", s.Endpoint(), etcdrepo.TLSFiles{CAFile: otherCA.File, CertFile: clientCert, KeyFile: clientKey}, nil, false, "unknown authority"},
		// Go's client sends no certificate the server's CA list does not cover.
		{"ClientFromUnknownCAIsRefused", s.Endpoint(), etcdrepo.TLSFiles{CAFile: ca.File, CertFile: strangerCert, KeyFile: strangerKey}, nil, false, "certificate required"},
		{"NoClientCertificateIsRefused", s.Endpoint(), etcdrepo.TLSFiles{CAFile: ca.File}, nil, false, "certificate required"},
		{"PlainTCPIsRefused", strings.Replace(s.Endpoint(), "https://", "http://", 1), etcdrepo.TLSFiles{}, nil, false, "not reachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := etcdrepo.Open(ctxT(t), etcdrepo.Config{
				Endpoints:   []string{tc.endpoint},
				DialTimeout: time.Second,
				TLSFiles:    tc.files,
				TLS:         tc.tls,
				Logger:      quiet,
			})
			if !tc.ok {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Contains(t, err.Error(), tc.reason)
				assert.Less(t, time.Since(start), 5*time.Second)
				return
			}
			require.NoError(t, err)
			defer r.Close()
			_, err = r.Put(ctxT(t), repotest.NewMember(t, 1), core.AnyRevision)
			require.NoError(t, err)
		})
	}

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, seen, "the in-code configuration was used")
	for _, cs := range seen {
		assert.Equal(t, uint16(tls.VersionTLS13), cs.Version)
		assert.Equal(t, tls.X25519MLKEM768, cs.CurveID, "the link to etcd uses the hybrid post-quantum key exchange")
	}
}
