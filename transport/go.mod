module github.com/snowmerak/clustering/transport

go 1.25.0

require (
	github.com/snowmerak/clustering/core v0.0.0
	github.com/snowmerak/clustering/pki v0.0.0
	github.com/stretchr/testify v1.11.1
	github.com/xtaci/kcp-go/v5 v5.6.72
	github.com/xtaci/smux v1.5.34
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.47.0
	golang.org/x/sys v0.38.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/klauspost/cpuid/v2 v2.2.6 // indirect
	github.com/klauspost/reedsolomon v1.12.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/tjfoc/gmsm v1.4.1 // indirect
	golang.org/x/crypto v0.45.0 // indirect
	golang.org/x/time v0.14.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace (
	github.com/snowmerak/clustering/core => ../core
	github.com/snowmerak/clustering/pki => ../pki
)
