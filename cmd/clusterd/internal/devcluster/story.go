package devcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/node"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
)

// rttWait bounds the wait for first probe round trips before the
// membership table is shown.
const rttWait = 3 * time.Second

// showMembers prints node-1's view of the cluster.
func (d *demo) showMembers(ctx context.Context) error {
	first := d.nodes[0].node
	deadline := time.Now().Add(rttWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		probed := 0
		for _, m := range first.Members() {
			if m.RTT > 0 {
				probed++
			}
		}
		if probed == len(d.nodes)-1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.say("\n3. Membership as node-1 sees it (each alive record signed by its member's own ML-DSA key)\n")
	shares := first.View().Partitions()
	total := first.View().Placement.Partitions()
	members := first.Members()
	slices.SortFunc(members, func(a, b swim.MemberState) int { return strings.Compare(d.nameOf(a.ID), d.nameOf(b.ID)) })
	tw := tabwriter.NewWriter(d.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   NODE\tID\tSTATE\tZONE\tADDR\tRTT\tKEYS")
	for _, m := range members {
		rtt := "-"
		if m.RTT > 0 {
			rtt = m.RTT.Round(time.Microsecond).String()
		}
		addr := m.Meta.Addr.String()
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\n", d.nameOf(m.ID), m.ID.Short(), m.State, m.Meta.Zone, addr, rtt, 100*float64(shares[m.ID])/float64(total))
	}
	tw.Flush()
	tm := first.TransportMetrics()
	d.say("   node-1 transport: %d sessions, %d handshakes, %d packets out, %d in\n", tm.Sessions, tm.HandshakesCompleted, tm.PacketsOut, tm.PacketsIn)
	registered, _, err := first.Options().Registry.Repo().List(ctx)
	if err != nil {
		return fmt.Errorf("dev: registry: %w", err)
	}
	d.say("   registry: members.csv holds %d records, one written by each node at start\n", len(registered))
	return nil
}

// placement is the owners of each demo key in one view.
type placement map[string][]core.NodeID

// place returns where node-1's current view puts the demo keys.
func (d *demo) place() placement {
	v := d.nodes[0].node.View()
	out := placement{}
	for _, k := range keys {
		out[k] = v.Owners([]byte(k), replicas)
	}
	return out
}

// owners names a key's owners, "primary, replica (zone)".
func (d *demo) owners(ids []core.NodeID) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, d.nameOf(id))
	}
	return strings.Join(parts, ", ")
}

// showKeys prints where the demo keys live.
func (d *demo) showKeys(context.Context) error {
	d.say("\n4. Where keys are placed: weighted rendezvous hashing, %d owners a key in distinct zones\n", replicas)
	p := d.place()
	tw := tabwriter.NewWriter(d.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   KEY\tPRIMARY, REPLICA")
	for _, k := range keys {
		fmt.Fprintf(tw, "   %s\t%s\n", k, d.owners(p[k]))
	}
	tw.Flush()
	d.before = p
	return nil
}

// crash silences node-3 without a leave and narrates its detection.
func (d *demo) crash(ctx context.Context) error {
	victim := d.nodes[2]
	d.say("\n5. Crash node-3: its socket goes silent, no leave is announced\n")
	d.drainEvents()
	at := d.elapsed()
	victim.conn.crash()
	victim.node.Close()
	d.say("   %+6.1fs  node-3 crashed\n", 0.0)
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	dead := map[string]bool{}
	for len(dead) < len(d.nodes)-1 {
		select {
		case s := <-d.events:
			if s.ev.Member.ID != victim.id || (s.ev.Kind != swim.EventSuspect && s.ev.Kind != swim.EventDead) {
				continue
			}
			d.say("   %+6.1fs  %s: node-3 is %s\n", (s.at - at).Seconds(), s.observer, s.ev.Kind)
			if s.ev.Kind == swim.EventDead {
				dead[s.observer] = true
			}
		case <-ctx.Done():
			return fmt.Errorf("dev: node-3 was not declared dead: %w", ctx.Err())
		}
	}
	d.say("   node-3 declared dead by every live node %.1fs after the crash\n", (d.elapsed() - at).Seconds())
	if err := d.waitAll(ctx, func(n *node.Node) bool { return !n.View().Has(victim.id) }); err != nil {
		return fmt.Errorf("dev: node-3 still placed: %w", err)
	}
	return d.showMoves(victim.id)
}

// showMoves prints the keys again, marking those whose owners changed.
func (d *demo) showMoves(gone core.NodeID) error {
	d.say("\n6. Keys after the crash: node-3's keys move, the others stay put (* = moved)\n")
	after := d.place()
	tw := tabwriter.NewWriter(d.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   KEY\tBEFORE\tAFTER\t")
	movedPrimaries, stray := 0, 0
	for _, k := range keys {
		was, now := d.before[k], after[k]
		mark := ""
		if d.owners(was) != d.owners(now) {
			mark = "*"
		}
		if was[0] != now[0] {
			movedPrimaries++
			if was[0] != gone {
				stray++
			}
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", k, d.owners(was), d.owners(now), mark)
	}
	tw.Flush()
	d.say("   %d of %d primaries moved, all of them node-3's", movedPrimaries, len(keys))
	if stray > 0 {
		return fmt.Errorf("dev: %d keys of live nodes moved", stray)
	}
	shares := d.nodes[0].node.View().Partitions()
	total := d.nodes[0].node.View().Placement.Partitions()
	d.say("; node-1 now owns %.1f%% of the partitions, node-2 %.1f%%\n",
		100*float64(shares[d.nodes[0].id])/float64(total), 100*float64(shares[d.nodes[1].id])/float64(total))
	return nil
}

// shutdown has node-2 leave gracefully, then node-1.
func (d *demo) shutdown(ctx context.Context) error {
	d.say("\n7. Shut down cleanly: a signed leave record, then the sessions close\n")
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	leaver, last := d.nodes[1], d.nodes[0]
	d.drainEvents()
	began := d.elapsed()
	if err := leaver.node.Leave(ctx); err != nil {
		return fmt.Errorf("dev: node-2 leave: %w", err)
	}
	for seenLeave := false; !seenLeave; {
		select {
		case s := <-d.events:
			seenLeave = s.observer == last.name && s.ev.Member.ID == leaver.id && s.ev.Kind == swim.EventLeave
		case <-ctx.Done():
			return fmt.Errorf("dev: node-1 did not see node-2 leave: %w", ctx.Err())
		}
	}
	d.say("   node-2 left; node-1 saw its leave record %.2fs after it was signed\n", (d.elapsed() - began).Seconds())
	leaver.node.Close()
	if err := last.node.Leave(ctx); err != nil {
		return fmt.Errorf("dev: node-1 leave: %w", err)
	}
	last.node.Close()
	d.say("   node-1 left, the last one\n")
	return nil
}

// drainEvents forgets the events seen so far.
func (d *demo) drainEvents() {
	for {
		select {
		case <-d.events:
		default:
			return
		}
	}
}
