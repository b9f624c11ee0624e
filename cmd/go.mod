module github.com/snowmerak/clustering/cmd

go 1.25.0

require (
	github.com/snowmerak/clustering/core v0.0.0
	github.com/snowmerak/clustering/pki v0.0.0
	github.com/snowmerak/clustering/transport v0.0.0
	github.com/snowmerak/clustering/membership v0.0.0
	github.com/snowmerak/clustering/adapters/pqc v0.0.0
	github.com/snowmerak/clustering/adapters/memrepo v0.0.0
	github.com/snowmerak/clustering/adapters/csvrepo v0.0.0
	github.com/snowmerak/clustering/adapters/etcdrepo v0.0.0
)

replace (
	github.com/snowmerak/clustering/core => ../core
	github.com/snowmerak/clustering/pki => ../pki
	github.com/snowmerak/clustering/transport => ../transport
	github.com/snowmerak/clustering/membership => ../membership
	github.com/snowmerak/clustering/adapters/pqc => ../adapters/pqc
	github.com/snowmerak/clustering/adapters/memrepo => ../adapters/memrepo
	github.com/snowmerak/clustering/adapters/csvrepo => ../adapters/csvrepo
	github.com/snowmerak/clustering/adapters/etcdrepo => ../adapters/etcdrepo
)
