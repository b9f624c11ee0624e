package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Server limits.
const (
	// connTimeout bounds one connection: request, answer, close.
	connTimeout = 5 * time.Second
	// maxConns bounds the connections served at once.
	maxConns = 16
	// ReloadTimeout bounds a reload command, which may wait on the member
	// registry (Node.ReloadTrust gives its two re-checks 20 s each).
	ReloadTimeout = time.Minute
)

// Source answers the admin commands: a running node.
type Source interface {
	Members() []Member
	Status() Status
	// Reload applies changed trust files; an error names what failed, the
	// Reload what was done regardless.
	Reload(ctx context.Context) (Reload, error)
}

// Server serves a Source on a unix socket.
type Server struct {
	path  string
	ln    *net.UnixListener
	src   Source
	log   *slog.Logger
	slots chan struct{}
	wg    sync.WaitGroup
}

// maxSocketPath is the longest unix socket path the kernels take: sun_path
// less its terminating NUL, 108 bytes on Linux and 104 on macOS and the BSDs
// (the smaller, so a configuration valid on one is valid on all).
const maxSocketPath = 103

// widestPID has as many digits as any process ID (Linux allows up to 2^22).
const widestPID = 9_999_999

// tempName is where Listen binds the socket for path before renaming it.
func tempName(path string, pid int) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(pid))
}

// CheckPath reports whether Listen can bind a socket at path: its
// temporary name, a few bytes longer than path, must fit a unix socket
// address.
func CheckPath(path string) error {
	if n := len(tempName(path, widestPID)); n > maxSocketPath {
		return fmt.Errorf("%d bytes with the temporary suffix, a unix socket path allows %d: set a shorter path", n, maxSocketPath)
	}
	return nil
}

// Listen creates the socket at path with mode 0600 and serves src on it.
// The socket is bound under a temporary name, restricted, then renamed into
// place, so it is never reachable with wider permissions. A stale socket
// left by a dead process is replaced; a live one is an error.
func Listen(path string, src Source, log *slog.Logger) (*Server, error) {
	if err := clearStale(path); err != nil {
		return nil, err
	}
	tmp := tempName(path, os.Getpid())
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*Server, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	s := &Server{path: path, ln: ln, src: src, log: log, slots: make(chan struct{}, maxConns)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// clearStale removes a socket at path that nothing listens on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("admin socket: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("admin socket: %s is in use by a running node", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("admin socket: remove stale %s: %w", path, err)
	}
	return nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops serving, waits for connections in progress and removes the socket.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.slots <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			s.handle(c)
		}()
	}
}

// handle answers one connection.
func (s *Server) handle(c *net.UnixConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(connTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, MaxRequestSize+1)).ReadBytes('\n')
	var resp Response
	switch {
	case len(line) > MaxRequestSize:
		resp.Error = fmt.Sprintf("request exceeds %d bytes", MaxRequestSize)
	case err != nil && !errors.Is(err, io.EOF):
		resp.Error = fmt.Sprintf("read request: %v", err)
	default:
		resp = s.answer(c, line)
	}
	if err := json.NewEncoder(c).Encode(resp); err != nil {
		s.log.Debug("admin: write response", "err", err)
	}
	// Half-close and drain a little, so a client still writing gets the
	// answer rather than a reset.
	_ = c.CloseWrite()
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// answer runs one request from c.
func (s *Server) answer(c *net.UnixConn, line []byte) Response {
	req, err := DecodeRequest(line)
	if err != nil {
		return Response{Error: err.Error()}
	}
	switch req.Command {
	case CommandMembers:
		return Response{Members: s.src.Members()}
	case CommandReload:
		_ = c.SetDeadline(time.Now().Add(ReloadTimeout))
		ctx, cancel := context.WithTimeout(context.Background(), ReloadTimeout)
		defer cancel()
		r, err := s.src.Reload(ctx)
		resp := Response{Reload: &r}
		if err != nil {
			resp.Error = err.Error()
		}
		return resp
	default:
		st := s.src.Status()
		return Response{Status: &st}
	}
}
