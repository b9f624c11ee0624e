package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// MaxResponseSize bounds a response a client reads.
const MaxResponseSize = 16 << 20

// ErrServer reports an error the node answered with.
var ErrServer = errors.New("admin: node refused the request")

// Query sends one command to the node at the socket path and returns its
// answer; an answer carrying an error is returned too, with an error
// wrapping ErrServer.
func Query(ctx context.Context, path, command string) (*Response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin: connect to %s (is clusterd running?): %w", path, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(deadline)
	}
	if err := json.NewEncoder(c).Encode(Request{Command: command}); err != nil {
		return nil, fmt.Errorf("admin: send: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(&limitedReader{r: c, n: MaxResponseSize}).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("admin: read answer: %w", err)
	}
	if resp.Error != "" {
		return &resp, fmt.Errorf("%w: %s", ErrServer, resp.Error)
	}
	return &resp, nil
}

// limitedReader fails, rather than ends, after n bytes.
type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("response exceeds %d bytes", MaxResponseSize)
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}
