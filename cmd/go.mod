module github.com/snowmerak/clustering/cmd

go 1.25.0

require (
	github.com/snowmerak/clustering/adapters/pqc v0.0.0
	github.com/snowmerak/clustering/core v0.0.0
	github.com/snowmerak/clustering/pki v0.0.0
	github.com/stretchr/testify v1.11.1
	golang.org/x/crypto v0.55.0
	golang.org/x/term v0.45.0
)

require (
	github.com/cloudflare/circl v1.6.5 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
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
