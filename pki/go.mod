module github.com/snowmerak/clustering/pki

go 1.25.0

require (
	github.com/snowmerak/clustering/core v0.0.0
)

replace (
	github.com/snowmerak/clustering/core => ../core
)
