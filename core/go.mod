module github.com/snowmerak/clustering/core

go 1.25.0
