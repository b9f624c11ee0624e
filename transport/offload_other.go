//go:build !linux

package transport

import "net"

// Without Linux's UDP segmentation offloads, datagrams are sent and read one
// per message (in batches where the platform has them).

func enableGSO(*net.UDPConn) bool { return false }

func enableGRO(*net.UDPConn) bool { return false }

const gsoControlSize = 0

func putGSOControl(b []byte, _ int) []byte { return b[:0] }

const groControlSize = 0

func groSegmentSize([]byte) int { return 0 }

func isGSOError(error) bool { return false }
