package swim

import (
	"slices"

	"github.com/snowmerak/clustering/core"
)

// Gossip that stops after retransmitLimit sends misses a given member with
// small but real probability (about e^-RetransmitMult·⌈log10(n+1)⌉ per change),
// and a member that missed a refutation would declare a live member dead when
// its suspicion expires. Two pull-style repairs close that gap:
//
//   - a node keeps reminding its peers of every suspicion it holds, in the
//     spare room of its datagrams, for as long as the suspicion stands;
//   - a node that hears a notice older than what it holds about the subject
//     answers with a notice of its newer record (a correction), which the
//     outdated peer then pulls like any other.
//
// So a member still suspecting a refuted peer learns of the refutation from
// the first peer it talks to, within a probe interval or so. Repairs travel
// in their own section of a datagram and the records they bring are applied
// as anti-entropy, like push-pull's: a dead verdict learnt this way only
// makes the receiver suspect the member.

const (
	// maxReminders bounds the suspicion reminders in one datagram.
	maxReminders = 2
	// maxCorrections bounds the corrections sent for one received datagram.
	maxCorrections = 8
)

// appendRemindersLocked adds reminders of held suspicions to repairs while
// fewer than room notices are planned in all, rotating through them across
// datagrams. The suspicion of buddy, the probe target, goes first: the
// target must hear of it to refute, even once the gossip is spent.
func (n *Node) appendRemindersLocked(repairs, fresh []notice, room int, buddy *core.NodeID) []notice {
	planned := func(id core.NodeID) bool {
		same := func(x notice) bool { return x.subject == id }
		return slices.ContainsFunc(repairs, same) || slices.ContainsFunc(fresh, same)
	}
	if buddy != nil && len(repairs)+len(fresh) < room && !planned(*buddy) {
		if m := n.members[*buddy]; m != nil && m.state == StateSuspect && m.status != nil {
			repairs = append(repairs, m.status.notice())
		}
	}
	added := 0
	for range len(n.suspects) {
		if added == maxReminders || len(repairs)+len(fresh) >= room {
			break
		}
		n.remindIdx = (n.remindIdx + 1) % len(n.suspects)
		m := n.members[n.suspects[n.remindIdx]]
		if m == nil || m.state != StateSuspect || m.status == nil {
			continue
		}
		if planned(m.id) {
			continue
		}
		repairs = append(repairs, m.status.notice())
		added++
	}
	return repairs
}

// trackSuspectLocked keeps n.suspects equal to the members in StateSuspect.
func (n *Node) trackSuspectLocked(id core.NodeID, suspect bool) {
	i := slices.Index(n.suspects, id)
	switch {
	case suspect && i < 0:
		n.suspects = append(n.suspects, id)
	case !suspect && i >= 0:
		n.suspects = slices.Delete(n.suspects, i, i+1)
	}
}

// correctionsLocked returns, for notices about subjects this node holds a
// strictly newer state of, the notice of that newer state.
func (n *Node) correctionsLocked(lists ...[]notice) []notice {
	var out []notice
	for _, nt := range slices.Concat(lists...) {
		if len(out) == maxCorrections {
			break
		}
		var cur *record
		if nt.subject == n.id {
			cur = n.selfAlive
			if n.selfLeave != nil {
				cur = n.selfLeave
			}
		} else if m := n.members[nt.subject]; m != nil {
			cur = m.status
			if m.state == StateAlive {
				cur = m.alive
			}
		}
		if cur == nil || !nt.key().less(cur.key()) {
			continue
		}
		if !slices.ContainsFunc(out, func(x notice) bool { return x.subject == nt.subject }) {
			out = append(out, cur.notice())
		}
	}
	return out
}
