package swim

import (
	"slices"

	"github.com/snowmerak/clustering/core"
)

// maxDeparted bounds the departures a Node remembers after reaping their
// tombstones; the oldest are forgotten first.
const maxDeparted = 4096

// departures remembers members that left, by the incarnation of their signed
// leave, after their tombstones are reaped: a record of that incarnation or
// older is obsolete however late it is replayed, since the member itself said
// it was its last. A member that comes back announces a higher incarnation (a
// restart starts from the clock), which is accepted. Members declared dead
// are not remembered: one that is alive on the far side of a long partition
// still announces the incarnation it was declared dead in.
type departures struct {
	inc   map[core.NodeID]uint64
	order []core.NodeID // oldest first
}

// add remembers that id left in incarnation inc.
func (d *departures) add(id core.NodeID, inc uint64) {
	if d.inc == nil {
		d.inc = make(map[core.NodeID]uint64)
	}
	if _, ok := d.inc[id]; ok {
		d.forget(id)
	}
	if len(d.order) == maxDeparted {
		delete(d.inc, d.order[0])
		d.order = slices.Delete(d.order, 0, 1)
	}
	d.inc[id] = inc
	d.order = append(d.order, id)
}

// obsolete reports whether a record of id at incarnation inc predates its departure.
func (d *departures) obsolete(id core.NodeID, inc uint64) bool {
	left, ok := d.inc[id]
	return ok && inc <= left
}

// forget drops id, which is back.
func (d *departures) forget(id core.NodeID) {
	if _, ok := d.inc[id]; !ok {
		return
	}
	delete(d.inc, id)
	d.order = slices.DeleteFunc(d.order, func(x core.NodeID) bool { return x == id })
}
