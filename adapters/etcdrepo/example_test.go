package etcdrepo_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net/netip"
	"os"
	"time"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
)

// exampleMember returns a member with a fresh self-signed certificate; in a
// real fleet the certificate comes from the project's PKI.
func exampleMember() core.Member {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "node-1"},
		NotBefore:    time.Now(),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return core.Member{
		ID:     core.NodeIDFromPublicKeyInfo(cert.RawSubjectPublicKeyInfo),
		Region: "eu", Zone: "eu-1", Rack: "r1",
		IP: netip.MustParseAddr("10.0.0.1"), Port: 7000,
		Weight: 1, Certificate: der,
	}
}

// exampleEtcd starts an in-process etcd for the examples; a deployment
// points Config.Endpoints at its etcd cluster instead.
func exampleEtcd() (endpoint string, stop func()) {
	dir, err := os.MkdirTemp("", "etcdrepo-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := etcdtest.Start(dir, etcdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return srv.Endpoint(), func() { srv.Stop(); _ = os.RemoveAll(dir) }
}

func ExampleOpen() {
	endpoint, stop := exampleEtcd()
	defer stop()
	ctx := context.Background()

	repo, err := etcdrepo.Open(ctx, etcdrepo.Config{
		Endpoints:   []string{endpoint},
		Prefix:      "/fleet/members/",
		DialTimeout: 2 * time.Second,
		// TLSFiles: etcdrepo.TLSFiles{CAFile: "ca.pem", CertFile: "node.pem", KeyFile: "node-key.pem"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	// Follow the registry from a snapshot.
	members, rev, err := repo.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	events, err := repo.Watch(ctx, rev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("members:", len(members))

	// Create (expect 0), then compare-and-set on the returned revision.
	m := exampleMember()
	created, err := repo.Put(ctx, m, 0)
	if err != nil {
		log.Fatal(err)
	}
	_, err = repo.Put(ctx, m, 0)
	fmt.Println("second create conflicts:", errors.Is(err, core.ErrConflict))
	m.Weight = 2
	if _, err := repo.Put(ctx, m, created); err != nil {
		log.Fatal(err)
	}

	for range 2 {
		ev := <-events
		fmt.Println(ev.Type, "weight", ev.Member.Weight)
	}
	// Output:
	// members: 0
	// second create conflicts: true
	// put weight 1
	// put weight 2
}

func ExampleRepo_Register() {
	endpoint, stop := exampleEtcd()
	defer stop()
	ctx := context.Background()
	repo, err := etcdrepo.Open(ctx, etcdrepo.Config{Endpoints: []string{endpoint}})
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	// The node registers itself for as long as it runs; if it dies, etcd
	// removes the record 10 s after the last keep-alive.
	m := exampleMember()
	reg, err := repo.Register(ctx, m, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	got, err := repo.Get(ctx, m.ID)
	fmt.Println(got.Zone, got.Revision == reg.Revision(), err)

	// A clean shutdown removes it at once.
	if err := reg.Deregister(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = repo.Get(ctx, m.ID)
	fmt.Println(errors.Is(err, core.ErrNotFound))
	// Output:
	// eu-1 true <nil>
	// true
}
