package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/snowmerak/clustering/core"
)

// Messenger request framing. A request is one stream: the requester writes
// one request frame, the server one reply frame, then both close.
//
//	request = length:u32 | payload                  (length ≤ MaxRequestSize)
//	reply   = status:u8 | length:u32 | body
//	          status 0: body is the reply           (length ≤ MaxRequestSize)
//	          status 1: body is the handler's error (UTF-8, ≤ maxErrorText)
//
// Integers are big-endian. Bodies are read as they arrive, so a peer that
// announces a large length and sends less costs no more memory than it sent.
const (
	replyOK    byte = 0
	replyError byte = 1
	// maxErrorText bounds the error text a reply carries.
	maxErrorText = 1024
)

// writeRequestFrame writes a request in one Write.
func writeRequestFrame(w io.Writer, payload []byte) error {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(payload)), uint32(len(payload)))
	_, err := w.Write(append(b, payload...))
	return err
}

// writeReplyFrame writes a successful reply in one Write.
func writeReplyFrame(w io.Writer, body []byte) error {
	b := binary.BigEndian.AppendUint32(append(make([]byte, 0, 5+len(body)), replyOK), uint32(len(body)))
	_, err := w.Write(append(b, body...))
	return err
}

// writeErrorFrame writes a failed reply carrying err's text, cut to
// maxErrorText bytes on a rune boundary.
func writeErrorFrame(w io.Writer, err error) error {
	text := strings.ToValidUTF8(err.Error(), "?")
	if len(text) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	b := binary.BigEndian.AppendUint32([]byte{replyError}, uint32(len(text)))
	_, werr := w.Write(append(b, text...))
	return werr
}

// readRequestFrame reads a request of at most limit bytes.
func readRequestFrame(r io.Reader, limit int) ([]byte, error) {
	return readBody(r, limit, "request")
}

// readReplyFrame reads a reply of at most limit bytes; a failed reply is an
// error wrapping ErrRemote with the peer's text.
func readReplyFrame(r io.Reader, limit int) ([]byte, error) {
	var status [1]byte
	if _, err := io.ReadFull(r, status[:]); err != nil {
		return nil, fmt.Errorf("reply status: %w", err)
	}
	switch status[0] {
	case replyOK:
		return readBody(r, limit, "reply")
	case replyError:
		text, err := readBody(r, maxErrorText, "error reply")
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(text) {
			return nil, fmt.Errorf("error reply is not UTF-8: %w", core.ErrInvalidInput)
		}
		return nil, fmt.Errorf("%w: %s", ErrRemote, text)
	}
	return nil, fmt.Errorf("reply status %d: %w", status[0], core.ErrInvalidInput)
}

// readBody reads a length-prefixed body of at most limit bytes, growing the
// buffer only as bytes arrive.
func readBody(r io.Reader, limit int, what string) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%s length: %w", what, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%s of %d bytes exceeds %d: %w", what, n, limit, ErrMessageTooLarge)
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s body: %w", what, err)
	}
	return buf.Bytes(), nil
}
