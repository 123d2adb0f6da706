package conformance

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"time"
)

// flyWindow is how long Fly waits for a provisioning answer: "If
// resources take more than 5 seconds to provision, flyctl can poll your
// API for resource readiness."
var flyWindow = 5 * time.Second

// statusWords are the status words a GET may carry. flyctl understands
// ready and error; the others are what providers (Jetway among them) say
// on the way.
var statusWords = []string{"pending", "ready", "error", "deleting", "sleeping", "deleted"}

func lifecycleChecks() []check {
	return []check{
		{"provision.create", "POST answers in Fly's 5 s window and the resource becomes ready", checkCreate},
		{"provision.get-shape", "GET has id, name and a status word (error_message on error)", checkGetShape},
		{"provision.repeat", "the same POST again gets the same answer", checkRepeat},
		{"provision.conflict-id", "the same id with another name is refused with 409", checkConflictID},
		{"provision.conflict-name", "another id with a taken name: 409 or a new name", checkConflictName},
		{"provision.get-unknown", "GET of an id never provisioned is 404", checkGetUnknown},
		{"update.patch", "PATCH read_regions answers 2xx and GET shows it", checkPatch},
	}
}

func needFixture(s *Suite) (Result, bool) {
	if s.fixture == "" {
		return skip("needs the resource provision.create could not make"), false
	}
	return Result{}, true
}

func checkCreate(ctx context.Context, s *Suite) Result {
	id, name := s.newID()
	body := s.provisionBody(id, name)
	a, err := s.call(ctx, http.MethodPost, "/extensions", body, nil, tweak{})
	if err != nil {
		return fail("%v", err)
	}
	if a.elapsed > flyWindow {
		return fail("answered after %s; Fly gives up after 5 s and expects a pending answer to poll instead", a.elapsed.Round(time.Millisecond))
	}
	if a.code != http.StatusOK && a.code != http.StatusCreated && a.code != http.StatusAccepted {
		return fail("want 200, 201 or 202, got %s", a)
	}
	obj := a.object()
	if obj == nil {
		return fail("the answer is not a JSON object: %s", a)
	}
	got, _ := obj["id"].(string)
	if got == "" {
		return fail("the answer has no id (\"Your response must return a unique ID\"): %s", a)
	}
	if got != id {
		s.made = append(s.made, got) // "We'll always use this ID"
	}
	if _, ok := obj["config"].(map[string]any); !ok && a.code != http.StatusAccepted {
		return fail("the answer has no config object (\"You must also return a config object\")")
	}
	s.fixture, s.fixtureBody, s.fixtureFirst, s.regions = got, body, a, nil
	status, _ := obj["status"].(string)
	if status == "ready" {
		return pass("%d in %s, ready at once", a.code, a.elapsed.Round(time.Millisecond))
	}
	start := time.Now()
	final, err := s.waitReady(ctx, got)
	if err != nil {
		return fail("%d in %s, then: %v", a.code, a.elapsed.Round(time.Millisecond), err)
	}
	if final.str("status") == "error" {
		return fail("%d in %s, then status error: %q", a.code, a.elapsed.Round(time.Millisecond), final.str("error_message"))
	}
	return pass("%d in %s (%s), ready after %s of polling", a.code, a.elapsed.Round(time.Millisecond),
		orDash(status), time.Since(start).Round(100*time.Millisecond))
}

// waitReady polls GET as flyctl does until the status is ready or error.
func (s *Suite) waitReady(ctx context.Context, id string) (*answer, error) {
	deadline := time.Now().Add(s.cfg.Timeout)
	var last *answer
	for {
		a, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		last = a
		if a.code == http.StatusOK {
			if st := a.str("status"); st == "ready" || st == "error" {
				return a, nil
			}
		} else if a.code != http.StatusNotFound { // an async provider may not know it yet
			return nil, fmt.Errorf("GET while waiting: %s", a)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("not ready or error after %s; last %s", s.cfg.Timeout, last)
		}
		if err := sleep(ctx, s.cfg.PollInterval); err != nil {
			return nil, err
		}
	}
}

func checkGetShape(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.get(ctx, s.fixture)
	if err != nil {
		return fail("%v", err)
	}
	if a.code != http.StatusOK {
		return fail("want 200, got %s", a)
	}
	obj := a.object()
	if obj == nil {
		return fail("not a JSON object: %s", a)
	}
	if id, _ := obj["id"].(string); id != s.fixture {
		return fail("id is %v, want %q", obj["id"], s.fixture)
	}
	if name, _ := obj["name"].(string); name == "" {
		return fail("no name")
	}
	status, ok := obj["status"].(string)
	if !ok {
		return fail("no status word")
	}
	if status == "error" {
		if msg, _ := obj["error_message"].(string); msg == "" {
			return fail("status error without an error_message")
		}
	}
	if !slices.Contains(statusWords, status) {
		return info("status %q is none of %v; flyctl understands only ready and error", status, statusWords)
	}
	return pass("id, name, status %q", status)
}

func checkRepeat(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.call(ctx, http.MethodPost, "/extensions", s.fixtureBody, nil, tweak{})
	if err != nil {
		return fail("%v", err)
	}
	if a.code != http.StatusOK && a.code != http.StatusCreated && a.code != http.StatusAccepted {
		return fail("want 200 or 201 for an identical repeat (Fly retries), got %s", a)
	}
	if got := a.str("id"); got != s.fixture {
		return fail("the repeat answered id %q, the first %q", got, s.fixture)
	}
	first, _ := s.fixtureFirst.object()["config"].(map[string]any)
	again, _ := a.object()["config"].(map[string]any)
	if first != nil && !reflect.DeepEqual(first, again) {
		return info("%d with the same id, but another config (the app's secrets would change on a retry)", a.code)
	}
	return pass("%d, same id and config", a.code)
}

func checkConflictID(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	body := clone(s.fixtureBody)
	body["name"] = s.fixtureBody["name"].(string) + "-other"
	a, err := s.call(ctx, http.MethodPost, "/extensions", body, nil, tweak{})
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case a.code == http.StatusConflict:
	case a.code >= 400 && a.code < 500:
		return info("refused with %d, not 409", a.code)
	default:
		return fail("want 409, got %s", a)
	}
	g, err := s.get(ctx, s.fixture)
	if err != nil {
		return fail("%v", err)
	}
	if name := g.str("name"); g.code != http.StatusOK || name != s.fixtureBody["name"] {
		return fail("409, but the resource changed: GET %s", g)
	}
	return pass("409, resource unchanged")
}

func checkConflictName(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	id, _ := s.newID()
	body := s.provisionBody(id, s.fixtureBody["name"].(string))
	a, err := s.call(ctx, http.MethodPost, "/extensions", body, nil, tweak{})
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case a.code == http.StatusConflict:
		return pass("409")
	case a.code == http.StatusOK || a.code == http.StatusCreated || a.code == http.StatusAccepted:
		if got := a.str("name"); got != "" && got != body["name"] {
			return info("answered %d with the new name %q (the page allows an updated name)", a.code, got)
		}
		return fail("%d with the same name another resource holds (names are \"unique across the Fly.io platform\")", a.code)
	case a.code >= 400 && a.code < 500:
		return info("refused with %d, not 409", a.code)
	}
	return fail("want 409 or a renamed resource, got %s", a)
}

func checkGetUnknown(ctx context.Context, s *Suite) Result {
	a, err := s.get(ctx, "conf-"+s.run+"-never")
	if err != nil {
		return fail("%v", err)
	}
	if a.code != http.StatusNotFound {
		return fail("want 404, got %s", a)
	}
	return pass("404")
}

func checkPatch(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	want := []string{s.cfg.ReadRegion}
	a, err := s.patch(ctx, s.fixture, map[string]any{"read_regions": want})
	if err != nil {
		return fail("%v", err)
	}
	if a.code < 200 || a.code > 299 {
		return fail("want 2xx, got %s", a)
	}
	s.regions = want
	lag, got, err := s.waitRegions(ctx, want)
	if err != nil {
		return fail("%v", err)
	}
	if !slices.Equal(got, want) {
		return fail("PATCH answered %d, but GET's read_regions is %v after %s, want %v", a.code, got, lag, want)
	}
	if lag > 0 {
		return pass("%d, GET shows read_regions %v (after %s)", a.code, want, lag.Round(time.Millisecond))
	}
	return pass("%d, GET shows read_regions %v", a.code, want)
}

// readLag bounds how long GET may lag behind an accepted PATCH: a provider
// answering GET from a cache shows a change a moment later.
const readLag = 10 * time.Second

// waitRegions polls GET until it shows want as the fixture's read_regions,
// for at most readLag; it returns how long that took (0 when the first GET
// showed it) and what GET showed last.
func (s *Suite) waitRegions(ctx context.Context, want []string) (time.Duration, []string, error) {
	start := time.Now()
	for first := true; ; first = false {
		g, err := s.get(ctx, s.fixture)
		if err != nil {
			return 0, nil, err
		}
		got := regionList(g.object()["read_regions"])
		if slices.Equal(got, want) && first {
			return 0, got, nil
		}
		if slices.Equal(got, want) || time.Since(start) > min(readLag, s.cfg.Timeout) {
			return time.Since(start), got, nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, nil, err
		}
	}
}

// unchanged says whether the fixture still exists with the read regions
// last set: "" when so, else what differs.
func (s *Suite) unchanged(ctx context.Context) string {
	g, err := s.get(ctx, s.fixture)
	if err != nil {
		return err.Error()
	}
	if g.code != http.StatusOK {
		return "GET afterwards: " + g.String()
	}
	if st := g.str("status"); st == "deleting" || st == "deleted" {
		return "it is " + st + " now"
	}
	if got := regionList(g.object()["read_regions"]); !slices.Equal(got, s.regions) {
		return fmt.Sprintf("read_regions is %v now, was %v", got, s.regions)
	}
	return ""
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// regionList reads a JSON read_regions; null and absent are no regions.
func regionList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, r := range list {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out
}
