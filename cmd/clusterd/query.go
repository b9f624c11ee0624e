package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/admin"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

// queryTimeout bounds an admin query.
const queryTimeout = 5 * time.Second

// queryFlags are the flags of members and status.
type queryFlags struct {
	config, socket string
	json           bool
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.config, "config", "clusterd.yaml", "the node's configuration `file`, to find its admin socket")
	fs.StringVar(&q.socket, "socket", "", "the node's admin socket `path` (instead of -config)")
	fs.BoolVar(&q.json, "json", false, "print the node's answer as JSON")
}

// query asks the node for command, waiting at most queryTimeout (a
// reload: admin.ReloadTimeout and a little more).
func (q *queryFlags) query(ctx context.Context, command string) (*admin.Response, error) {
	path := q.socket
	if path == "" {
		c, err := config.Load(q.config)
		if err != nil {
			return nil, err
		}
		path = c.Admin.Socket
	}
	timeout := queryTimeout
	if command == admin.CommandReload {
		timeout = admin.ReloadTimeout + queryTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return admin.Query(ctx, path, command)
}

func runMembers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd members", "[-config FILE | -socket PATH] [-json]",
		"Lists the members a running node sees, through its local admin socket:\nstate, topology, weight, address, the RTT of its last probe and the share of\nkeys each owns in the node's current placement view.", stderr)
	var q queryFlags
	q.register(fs)
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	resp, err := q.query(ctx, admin.CommandMembers)
	if err != nil {
		return err
	}
	if q.json {
		return printJSON(stdout, resp.Members)
	}
	printMembers(stdout, resp.Members)
	return nil
}

func runReload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd reload", "[-config FILE | -socket PATH] [-json]",
		"Makes a running node read its trust files again, through its local admin\nsocket, as SIGHUP does: the roots replace its roots (if they still vouch for\nthe node), newer revocation lists install, sessions with peers that no\nlonger pass close, and members whose certificates are refused are declared\ndead in its view. Exits 1 if a file failed (the rest is applied).", stderr)
	var q queryFlags
	q.register(fs)
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	resp, err := q.query(ctx, admin.CommandReload)
	if resp != nil && resp.Reload != nil {
		if q.json {
			if perr := printJSON(stdout, resp.Reload); perr != nil {
				return perr
			}
		} else {
			r := resp.Reload
			fmt.Fprintf(stdout, "trust: %d root(s), %d revocation list(s) revoking %d certificate(s); closed %d session(s); declared %d member(s) dead\n",
				r.Roots, r.RevocationLists, r.Revoked, r.ClosedSessions, r.Evicted)
		}
	}
	return err
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cliutil.NewFlagSet("clusterd status", "[-config FILE | -socket PATH] [-json]",
		"Summarises a running node through its local admin socket: identity, member\ncounts, sessions, registry and placement ownership.", stderr)
	var q queryFlags
	q.register(fs)
	if err := cliutil.ParseFlags(fs, args); err != nil {
		return err
	}
	resp, err := q.query(ctx, admin.CommandStatus)
	if err != nil {
		return err
	}
	if resp.Status == nil {
		return fmt.Errorf("the node answered without a status")
	}
	if q.json {
		return printJSON(stdout, resp.Status)
	}
	printStatus(stdout, *resp.Status)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// short cuts a hex NodeID to 16 characters, as logs show it.
func short(id string) string { return id[:min(16, len(id))] }

// dash shows an empty value as "-".
func dash(s string) string { return cmp.Or(s, "-") }

func printMembers(w io.Writer, members []admin.Member) {
	total := 0
	for _, m := range members {
		total += m.Partitions
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tREGION\tZONE\tRACK\tWEIGHT\tADDR\tRTT\tKEYS")
	for _, m := range members {
		id := short(m.ID)
		if m.Self {
			id += " *"
		}
		rtt := "-"
		if m.RTT > 0 {
			rtt = time.Duration(m.RTT).Round(10 * time.Microsecond).String()
		}
		keys := "-"
		if total > 0 && m.Partitions > 0 {
			keys = fmt.Sprintf("%.1f%%", 100*float64(m.Partitions)/float64(total))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", id, m.State, dash(m.Region), dash(m.Zone), dash(m.Rack), m.Weight, dash(m.Addr), rtt, keys)
	}
	tw.Flush()
}

func printStatus(w io.Writer, s admin.Status) {
	states := []string{"alive", "suspect", "dead", "left"}
	var counts []string
	for _, st := range states {
		counts = append(counts, fmt.Sprintf("%d %s", s.Members[st], st))
	}
	registry := s.Registry
	if s.RegistryMembers >= 0 {
		registry = fmt.Sprintf("%s, %d records", s.Registry, s.RegistryMembers)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Node\t%s\n", s.ID)
	fmt.Fprintf(tw, "Address\t%s\n", s.Addr)
	fmt.Fprintf(tw, "Topology\tregion %s, zone %s, rack %s, weight %d\n", dash(s.Region), dash(s.Zone), dash(s.Rack), s.Weight)
	fmt.Fprintf(tw, "Suite\t%s\n", s.Suite)
	fmt.Fprintf(tw, "Uptime\t%s\n", time.Duration(s.Uptime).Round(time.Second))
	fmt.Fprintf(tw, "Members\t%s\n", strings.Join(counts, ", "))
	fmt.Fprintf(tw, "Sessions\t%d (handshakes: %d ok, %d failed)\n", s.Sessions, s.Handshakes, s.HandshakeFailures)
	fmt.Fprintf(tw, "Registry\t%s\n", registry)
	p := s.Placement
	fmt.Fprintf(tw, "Placement\tview %d: %d members, %d partitions, %d replicas a key\n", p.Version, len(p.Owners), p.Partitions, p.Replicas)
	tw.Flush()
	owners := slices.Clone(p.Owners)
	slices.SortFunc(owners, func(a, b admin.Ownership) int { return cmp.Compare(b.Partitions, a.Partitions) })
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  OWNER\tPARTITIONS\tSHARE")
	for _, o := range owners {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\n", short(o.ID), o.Partitions, 100*o.Share)
	}
	tw.Flush()
}
