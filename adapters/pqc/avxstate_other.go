//go:build !amd64

package pqc

// clearAVXState is needed only on amd64; see avxstate_amd64.go.
func clearAVXState() {}
