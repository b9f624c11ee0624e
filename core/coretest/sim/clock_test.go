package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core/coretest/sim"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestClockRules(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, c *sim.Clock)
	}{
		{"time stands still until advanced", func(t *testing.T, c *sim.Clock) {
			fired := false
			c.AfterFunc(time.Second, func() { fired = true })
			if fired || !c.Now().Equal(epoch) {
				t.Fatalf("fired=%v now=%v before any Run", fired, c.Now())
			}
			c.RunFor(999 * time.Millisecond)
			if fired {
				t.Fatal("timer fired before its due time")
			}
			c.RunFor(time.Millisecond)
			if !fired {
				t.Fatal("timer did not fire at its due time")
			}
		}},
		{"events run in due order, ties in scheduling order", func(t *testing.T, c *sim.Clock) {
			var got []int
			c.AfterFunc(3*time.Second, func() { got = append(got, 3) })
			c.AfterFunc(time.Second, func() { got = append(got, 1) })
			c.AfterFunc(2*time.Second, func() { got = append(got, 20) })
			c.AfterFunc(2*time.Second, func() { got = append(got, 21) })
			c.AfterFunc(-time.Second, func() { got = append(got, 0) })
			c.RunFor(time.Minute)
			if want := []int{0, 1, 20, 21, 3}; !slices.Equal(got, want) {
				t.Fatalf("order %v, want %v", got, want)
			}
		}},
		{"an event sees its own due time as now", func(t *testing.T, c *sim.Clock) {
			var at time.Time
			c.AfterFunc(1500*time.Millisecond, func() { at = c.Now() })
			c.RunFor(time.Hour)
			if !at.Equal(epoch.Add(1500 * time.Millisecond)) {
				t.Fatalf("event saw %v", at)
			}
			if !c.Now().Equal(epoch.Add(time.Hour)) {
				t.Fatalf("RunFor left the clock at %v", c.Now())
			}
		}},
		{"events scheduled while running run when due within the limit", func(t *testing.T, c *sim.Clock) {
			n := 0
			var tick func()
			tick = func() { n++; c.AfterFunc(time.Second, tick) }
			c.AfterFunc(time.Second, tick)
			if ran := c.RunFor(10 * time.Second); ran != 10 || n != 10 {
				t.Fatalf("ran %d events, ticked %d times; want 10", ran, n)
			}
			if c.Pending() != 1 {
				t.Fatalf("pending %d, want the 11th tick", c.Pending())
			}
		}},
		{"stop prevents a pending call and reports it", func(t *testing.T, c *sim.Clock) {
			fired := false
			tm := c.AfterFunc(time.Second, func() { fired = true })
			if !tm.Stop() {
				t.Fatal("Stop of a pending timer returned false")
			}
			if tm.Stop() {
				t.Fatal("second Stop returned true")
			}
			c.RunFor(time.Minute)
			if fired || c.Pending() != 0 {
				t.Fatalf("fired=%v pending=%d after Stop", fired, c.Pending())
			}
		}},
		{"stop after the call reports false", func(t *testing.T, c *sim.Clock) {
			tm := c.AfterFunc(time.Second, func() {})
			c.RunFor(time.Second)
			if tm.Stop() {
				t.Fatal("Stop after firing returned true")
			}
		}},
		{"step jumps to the next event", func(t *testing.T, c *sim.Clock) {
			c.AfterFunc(time.Hour, func() {})
			if !c.Step() || !c.Now().Equal(epoch.Add(time.Hour)) {
				t.Fatalf("Step left the clock at %v", c.Now())
			}
			if c.Step() {
				t.Fatal("Step with nothing pending returned true")
			}
		}},
		{"stopping one of many keeps the others in order", func(t *testing.T, c *sim.Clock) {
			var got []int
			var timers []interface{ Stop() bool }
			for i := range 20 {
				timers = append(timers, c.AfterFunc(time.Duration(20-i)*time.Millisecond, func() { got = append(got, 20-i) }))
			}
			for i := 0; i < 20; i += 3 {
				timers[i].Stop()
			}
			c.RunFor(time.Second)
			var want []int
			for v := 1; v <= 20; v++ {
				if (20-v)%3 != 0 {
					want = append(want, v)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, sim.NewClock(epoch)) })
	}
}
