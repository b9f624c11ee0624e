module github.com/snowmerak/clustering/integration

go 1.25.0

require (
	github.com/snowmerak/clustering/adapters/csvrepo v0.0.0
	github.com/snowmerak/clustering/adapters/pqc v0.0.0
	github.com/snowmerak/clustering/core v0.0.0
	github.com/snowmerak/clustering/membership v0.0.0
	github.com/snowmerak/clustering/pki v0.0.0
	github.com/snowmerak/clustering/transport v0.0.0
)

require (
	github.com/stretchr/testify v1.11.1
	github.com/xtaci/kcp-go/v5 v5.6.72
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cloudflare/circl v1.6.5 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/klauspost/cpuid/v2 v2.2.6 // indirect
	github.com/klauspost/reedsolomon v1.12.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/tjfoc/gmsm v1.4.1 // indirect
	github.com/xtaci/smux v1.5.34 // indirect
	github.com/zeebo/xxh3 v1.0.2 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.14.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace (
	github.com/snowmerak/clustering/adapters/csvrepo => ../adapters/csvrepo
	github.com/snowmerak/clustering/adapters/etcdrepo => ../adapters/etcdrepo
	github.com/snowmerak/clustering/adapters/memrepo => ../adapters/memrepo
	github.com/snowmerak/clustering/adapters/pqc => ../adapters/pqc
	github.com/snowmerak/clustering/core => ../core
	github.com/snowmerak/clustering/membership => ../membership
	github.com/snowmerak/clustering/pki => ../pki
	github.com/snowmerak/clustering/transport => ../transport
)
