package machines

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	fly "github.com/superfly/fly-go"
)

// Event history and the state log: what Fly shows of a machine's past is
// capped (Options.EventHistory), what the simulator knows of it is not.

// settled waits, without making a request, until machine id rests in state.
func (e *env) settled(id, state string) {
	e.t.Helper()
	eventually(e.t, id+" "+state, func() bool {
		h := e.sim.StateHistory(id)
		return len(h) > 0 && h[len(h)-1].State == state
	})
}

// stopStart stops a started machine and starts it again, each time until
// it settles.
func (e *env) stopStart(app, id string) {
	e.t.Helper()
	if err := e.c.Stop(e.ctx, app, fly.StopMachineInput{ID: id}, ""); err != nil {
		e.t.Fatalf("Stop: %v", err)
	}
	e.settled(id, stateStopped)
	if _, err := e.c.Start(e.ctx, app, id, ""); err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	e.settled(id, stateStarted)
}

func eventKinds[E interface{ kind() string }](evs []E) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.kind()
	}
	return out
}

type flyEvent struct{ *fly.MachineEvent }

func (ev flyEvent) kind() string  { return ev.Type + "/" + ev.Status }
func (ev eventWire) kind() string { return ev.Type + "/" + ev.Status }
func flyEvents(m *fly.Machine) []flyEvent {
	out := make([]flyEvent, len(m.Events))
	for i, ev := range m.Events {
		out[i] = flyEvent{ev}
	}
	return out
}

// storedEvents is how many events the simulator holds for id.
func storedEvents(s *Server, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.machines[id].events)
}

func TestEventHistoryCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	m := e.started("app")
	all := []string{"launch/created", "start/started"} // oldest first
	for range 3 {
		e.stopStart("app", m.ID)
		all = append(all, "stop/stopping", "exit/stopped", "start/starting", "start/started")
	}
	newest := slices.Clone(all)
	slices.Reverse(newest)
	newest = newest[:DefaultEventHistory]
	want := strings.Join(newest, ",")

	// Through fly-go, as a controller reads them.
	if got := strings.Join(eventKinds(flyEvents(e.get("app", m.ID))), ","); got != want {
		t.Errorf("fly-go Get: events %s\nwant the newest %d: %s", got, DefaultEventHistory, want)
	}
	list, err := e.c.List(e.ctx, "app", "")
	if err != nil || len(list) != 1 {
		t.Fatalf("fly-go List = %d machines, %v", len(list), err)
	}
	if got := strings.Join(eventKinds(flyEvents(list[0])), ","); got != want {
		t.Errorf("fly-go List: events %s\nwant %s", got, want)
	}

	// On the wire, ids included: the three views show the same events.
	var got machineWire
	_, raw := rawDo(t, e, "GET", "/v1/apps/app/machines/"+m.ID, "", testToken)
	strictDecode(t, "GET machine", raw, &got)
	var listed []machineWire
	_, raw = rawDo(t, e, "GET", "/v1/apps/app/machines", "", testToken)
	strictDecode(t, "list machines", raw, &listed)
	var events []eventWire
	_, raw = rawDo(t, e, "GET", "/v1/apps/app/machines/"+m.ID+"/events", "", testToken)
	strictDecode(t, "machine events", raw, &events)
	if len(listed) != 1 {
		t.Fatalf("list = %d machines", len(listed))
	}
	for name, evs := range map[string][]eventWire{"GET": got.Events, "list": listed[0].Events, "/events": events} {
		if k := strings.Join(eventKinds(evs), ","); k != want {
			t.Errorf("%s: events %s\nwant %s", name, k, want)
			continue
		}
		for i := range evs {
			if evs[i].ID != events[i].ID {
				t.Errorf("%s: event %d has id %s, /events has %s", name, i, evs[i].ID, events[i].ID)
			}
			if i > 0 && evs[i].Timestamp > evs[i-1].Timestamp {
				t.Errorf("%s: not newest first at %d: %d after %d", name, i, evs[i].Timestamp, evs[i-1].Timestamp)
			}
		}
	}

	// Memory stays bounded; the state log keeps everything.
	if n := storedEvents(e.sim, m.ID); n != DefaultEventHistory {
		t.Errorf("simulator holds %d events, want %d", n, DefaultEventHistory)
	}
	var states []string
	for _, c := range e.sim.StateHistory(m.ID) {
		states = append(states, c.State)
	}
	wantStates := "created,starting,started" + strings.Repeat(",stopping,stopped,starting,started", 3)
	if strings.Join(states, ",") != wantStates {
		t.Errorf("state log %v\nwant %s", states, wantStates)
	}
}

func TestEventHistoryOption(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var changes []string
			e := newEnv(t, Options{EventHistory: n, OnChange: func(c Change) {
				mu.Lock()
				defer mu.Unlock()
				changes = append(changes, c.State)
			}})
			e.createApp("app")
			m := e.started("app")
			if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
				t.Fatal(err)
			}
			e.settled(m.ID, stateStopped)
			if err := e.c.Cordon(e.ctx, "app", m.ID, ""); err != nil {
				t.Fatal(err)
			}
			want := strings.Join([]string{"cordon/stopped", "exit/stopped", "stop/stopping", "start/started", "launch/created"}[:n], ",")
			if got := strings.Join(eventKinds(flyEvents(e.get("app", m.ID))), ","); got != want {
				t.Errorf("events %s, want %s", got, want)
			}
			var events []eventWire
			_, raw := rawDo(t, e, "GET", "/v1/apps/app/machines/"+m.ID+"/events", "", testToken)
			strictDecode(t, "machine events", raw, &events)
			if got := strings.Join(eventKinds(events), ","); got != want {
				t.Errorf("/events %s, want %s", got, want)
			}
			if got := storedEvents(e.sim, m.ID); got != n {
				t.Errorf("simulator holds %d events, want %d", got, n)
			}
			// Rolled-off events do not make the creation look new again:
			// OnChange hears of each state change once.
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(changes, ","); got != "created,starting,started,stopping,stopped" {
				t.Errorf("OnChange heard %s", got)
			}
		})
	}
}

func TestRunningTimeStartStopStart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("app")
	m := e.started("app") // started at t0: the clock only moves when told
	clock.Advance(time.Hour)
	if err := e.c.Stop(e.ctx, "app", fly.StopMachineInput{ID: m.ID}, ""); err != nil {
		t.Fatal(err)
	}
	e.settled(m.ID, stateStopped) // t0+1h
	clock.Advance(30 * time.Minute)
	if _, err := e.c.Start(e.ctx, "app", m.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.settled(m.ID, stateStarted) // t0+1h30m, and still running
	clock.Advance(2 * time.Hour)  // now t0+3h30m

	at := func(d time.Duration) time.Time { return t0.Add(d) }
	h := time.Hour
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     time.Duration
	}{
		{"everything", at(-h), at(10 * h), 3 * h},
		{"up to now", t0, at(3*h + 30*time.Minute), 3 * h},
		{"window cuts both runs", at(30 * time.Minute), at(2 * h), h},
		{"window inside a run", at(2 * h), at(3 * h), h},
		{"ongoing run counts up to now", at(3 * h), at(5 * h), 30 * time.Minute},
		{"to is exclusive", t0, at(h), h},
		{"before creation", at(-2 * h), t0, 0},
		{"while stopped", at(h), at(h + 30*time.Minute), 0},
		{"in the future", at(4 * h), at(5 * h), 0},
		{"empty window", at(2 * h), at(2 * h), 0},
		{"inverted window", at(3 * h), at(h), 0},
	} {
		if got := e.sim.RunningTime(m.ID, tc.from, tc.to); got != tc.want {
			t.Errorf("%s: RunningTime = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Nothing has rolled off yet, so the events Fly shows tell the same
	// story: metering from them agrees with the truth, to the millisecond.
	got := e.get("app", m.ID)
	var fromEvents time.Duration
	var since int64 = -1
	for i := len(got.Events) - 1; i >= 0; i-- { // oldest first
		ev := got.Events[i]
		switch {
		case ev.Status == stateStarted && since < 0:
			since = ev.Timestamp
		case ev.Status != stateStarted && since >= 0:
			fromEvents += time.Duration(ev.Timestamp-since) * time.Millisecond
			since = -1
		}
	}
	if since >= 0 {
		fromEvents += time.Duration(clock.Now().UnixMilli()-since) * time.Millisecond
	}
	if fromEvents != 3*h {
		t.Errorf("running time from events = %v, want 3h", fromEvents)
	}

	var log []string
	for _, c := range e.sim.StateHistory(m.ID) {
		log = append(log, fmt.Sprintf("%s@%v", c.State, c.At.Sub(t0)))
	}
	if want := "created@0s,starting@0s,started@0s,stopping@1h0m0s,stopped@1h0m0s,starting@1h30m0s,started@1h30m0s"; strings.Join(log, ",") != want {
		t.Errorf("state log %v\nwant %s", log, want)
	}
}

func TestRunningTimeDestroyedMachines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	e := newEnv(t, Options{Now: clock.Now})
	e.createApp("a")
	e.createApp("b")
	destroyed := e.started("a")
	deleted := e.started("b")
	clock.Advance(10 * time.Minute)
	if err := e.sim.DeleteAppOutOfBand("b"); err != nil { // its machine goes with it
		t.Fatal(err)
	}
	clock.Advance(35 * time.Minute)
	if err := e.c.Destroy(e.ctx, "a", fly.RemoveMachineInput{ID: destroyed.ID, Kill: true}, ""); err != nil {
		t.Fatal(err)
	}
	e.settled(destroyed.ID, stateDestroyed)
	clock.Advance(time.Hour)

	from, to := t0.Add(-time.Hour), t0.Add(10*time.Hour)
	if got := e.sim.RunningTime(destroyed.ID, from, to); got != 45*time.Minute {
		t.Errorf("destroyed machine ran %v, want 45m", got)
	}
	if got := e.sim.RunningTime(deleted.ID, from, to); got != 10*time.Minute {
		t.Errorf("machine of a deleted app ran %v, want 10m", got)
	}
	if got := e.sim.RunningTime("0123456789abcd", from, to); got != 0 {
		t.Errorf("unknown machine ran %v", got)
	}
	if h := e.sim.StateHistory("0123456789abcd"); h != nil {
		t.Errorf("unknown machine has a state log: %v", h)
	}

	if live := e.sim.AllMachines(); len(live) != 0 {
		t.Errorf("AllMachines lists %d destroyed machines", len(live))
	}
	want := []MachineInfo{
		{App: "a", ID: destroyed.ID, Region: "ams", Size: "shared-cpu-1x", State: stateDestroyed},
		{App: "b", ID: deleted.ID, Region: "ams", Size: "shared-cpu-1x", State: stateDestroyed},
	}
	if got := e.sim.AllMachineIDs(); !slices.Equal(got, want) {
		t.Errorf("AllMachineIDs = %+v\nwant %+v", got, want)
	}
}
