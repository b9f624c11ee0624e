//go:build !race

package membership_test

const (
	loopKeys   = 20000
	smallTable = 1 << 16
)
