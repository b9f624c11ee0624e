package integration_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/transport"
)

// transfer is one stream carrying size pseudo-random bytes (drawn from the
// scenario seed) from one session to its peer, hashed at both ends.
type transfer struct {
	size     int64
	received atomic.Int64
	// lastProgress is the UnixNano of the last read that returned data, and
	// maxGap the longest wait between two such reads.
	lastProgress, maxGap atomic.Int64
	sent, got            [sha256.Size]byte
	sendErr, recvErr     error
}

// newTransfer prepares a transfer of size bytes.
func newTransfer(size int64) *transfer {
	tr := &transfer{size: size}
	tr.lastProgress.Store(time.Now().UnixNano())
	return tr
}

// run sends the bytes over a new stream from sender to receiver (the
// peer's end of the same session) and returns when both ends finish or ctx
// ends. pace, when set, is called before each 64 KiB write.
func (tr *transfer) run(ctx context.Context, seed int64, sender, receiver *transport.Session, pace func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		tr.got, tr.recvErr = tr.receive(ctx, receiver)
	}()
	if tr.sent, tr.sendErr = tr.send(ctx, seed, sender, pace); tr.sendErr != nil {
		cancel() // the receiver would wait for bytes that never come
	}
	<-recvDone
}

func (tr *transfer) send(ctx context.Context, seed int64, s *transport.Session, pace func()) ([sha256.Size]byte, error) {
	st, err := s.OpenStream(ctx)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("open stream: %w", err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { st.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	src := rand.NewChaCha8(sha256.Sum256(fmt.Appendf(nil, "payload %d", seed)))
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for left := tr.size; left > 0; {
		if pace != nil {
			pace()
		}
		chunk := buf[:min(int64(len(buf)), left)]
		src.Read(chunk)
		h.Write(chunk)
		if _, err := st.Write(chunk); err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("write after %d of %d bytes: %w", tr.size-left, tr.size, err)
		}
		left -= int64(len(chunk))
	}
	if err := st.Close(); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("close stream: %w", err)
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

func (tr *transfer) receive(ctx context.Context, s *transport.Session) ([sha256.Size]byte, error) {
	st, err := s.AcceptStream(ctx)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("accept stream: %w", err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { st.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		n, err := st.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			tr.received.Add(int64(n))
			now := time.Now().UnixNano()
			if gap := now - tr.lastProgress.Swap(now); gap > tr.maxGap.Load() {
				tr.maxGap.Store(gap)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return [sha256.Size]byte{}, fmt.Errorf("read after %d of %d bytes: %w", tr.received.Load(), tr.size, err)
		}
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// check reports a transfer that failed or did not arrive intact.
func (tr *transfer) check() error {
	switch {
	case tr.sendErr != nil:
		return fmt.Errorf("sender: %w", tr.sendErr)
	case tr.recvErr != nil:
		return fmt.Errorf("receiver: %w", tr.recvErr)
	case tr.received.Load() != tr.size:
		return fmt.Errorf("received %d of %d bytes", tr.received.Load(), tr.size)
	case tr.sent != tr.got:
		return fmt.Errorf("SHA-256 differs: sent %x, received %x", tr.sent, tr.got)
	}
	return nil
}

// waitReceived blocks until at least n bytes arrived or ctx ends.
func (tr *transfer) waitReceived(ctx context.Context, n int64) error {
	for tr.received.Load() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d bytes, %d arrived: %w", n, tr.received.Load(), ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}
