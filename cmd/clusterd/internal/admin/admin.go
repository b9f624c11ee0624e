// Package admin is clusterd's local control channel: a unix socket (mode
// 0600, so only the node's user can use it; never the network) that
// "clusterd members" and "clusterd status" query.
//
// The protocol is one JSON request line and one JSON response per
// connection:
//
//	→ {"command":"members"}      ← {"members":[{...}, ...]}
//	→ {"command":"status"}       ← {"status":{...}}
//	→ {"command":"reload"}       ← {"reload":{...}} (with "error" if a file failed)
//	any failure                  ← {"error":"..."}
package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Commands the server answers.
const (
	CommandMembers = "members"
	CommandStatus  = "status"
	// CommandReload applies changed trust files (roots, revocation lists)
	// to the running node, as SIGHUP does.
	CommandReload = "reload"
)

// MaxRequestSize bounds a request line.
const MaxRequestSize = 4 << 10

// Request is what a client sends.
type Request struct {
	Command string `json:"command"`
}

// Response is what the server answers: one of the fields is set.
type Response struct {
	Error   string   `json:"error,omitempty"`
	Members []Member `json:"members,omitempty"`
	Status  *Status  `json:"status,omitempty"`
	Reload  *Reload  `json:"reload,omitempty"`
}

// Reload is what a reload of the trust files did.
type Reload struct {
	// Roots and RevocationLists are what the trust store holds now; Revoked
	// counts the lists' entries.
	Roots           int `json:"roots"`
	RevocationLists int `json:"revocation_lists"`
	Revoked         int `json:"revoked"`
	// ClosedSessions counts sessions closed because their peer no longer
	// passes the trust policy; Evicted, members declared dead for it.
	ClosedSessions int `json:"closed_sessions"`
	Evicted        int `json:"evicted"`
}

// Member is one member as the node sees it.
type Member struct {
	ID          string            `json:"id"`
	Self        bool              `json:"self,omitempty"`
	State       string            `json:"state"`
	Incarnation uint64            `json:"incarnation"`
	Region      string            `json:"region,omitempty"`
	Zone        string            `json:"zone,omitempty"`
	Rack        string            `json:"rack,omitempty"`
	Weight      int               `json:"weight"`
	Addr        string            `json:"addr,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// RTT is the round trip of the node's last direct probe of the member
	// (0 for itself or when none was answered yet).
	RTT   Duration  `json:"rtt"`
	Since time.Time `json:"since,omitzero"`
	// Partitions is how many of the view's primary partitions it owns.
	Partitions int `json:"partitions"`
}

// Status summarises the node.
type Status struct {
	ID     string `json:"id"`
	Addr   string `json:"addr"`
	Region string `json:"region,omitempty"`
	Zone   string `json:"zone,omitempty"`
	Rack   string `json:"rack,omitempty"`
	Weight int    `json:"weight"`
	Suite  string `json:"suite"`
	// Uptime is the time since the node started.
	Uptime Duration `json:"uptime"`
	// Members counts members by state, the node included.
	Members map[string]int `json:"members"`
	// Placement describes the current view.
	Placement Placement `json:"placement"`
	// Sessions is the number of transport sessions; Handshakes and
	// HandshakeFailures count completed and failed handshakes.
	Sessions          int    `json:"sessions"`
	Handshakes        uint64 `json:"handshakes"`
	HandshakeFailures uint64 `json:"handshake_failures"`
	// Registry names the member registry and how many records it holds
	// (-1 when it cannot be listed).
	Registry        string `json:"registry"`
	RegistryMembers int    `json:"registry_members"`
}

// Placement describes a view of key placement.
type Placement struct {
	Version    uint64      `json:"version"`
	Replicas   int         `json:"replicas"`
	Partitions int         `json:"partitions"`
	Owners     []Ownership `json:"owners"`
}

// Ownership is one member's share of the primary partitions.
type Ownership struct {
	ID         string  `json:"id"`
	Partitions int     `json:"partitions"`
	Share      float64 `json:"share"`
}

// Duration is a time.Duration written as a string ("1.5ms") in JSON.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DecodeRequest parses a request line, refusing unknown fields and commands.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("admin: request: %v: %w", err, core.ErrInvalidInput)
	}
	if dec.More() {
		return r, fmt.Errorf("admin: request: trailing data: %w", core.ErrInvalidInput)
	}
	switch r.Command {
	case CommandMembers, CommandStatus, CommandReload:
		return r, nil
	}
	return r, fmt.Errorf("admin: unknown command %q (want %s, %s or %s): %w", r.Command, CommandMembers, CommandStatus, CommandReload, core.ErrInvalidInput)
}
