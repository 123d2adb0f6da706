package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func deletionChecks() []check {
	return []check{
		{"delete.accepted", "DELETE answers 2xx", checkDelete},
		{"delete.finishes", "repeated DELETE answers 2xx (or 404) until GET says it is gone", checkDeleteFinishes},
		{"delete.repeat-after", "DELETE once gone: 2xx, or 404", checkDeleteAgain},
		{"webhook.deleted", "the deletion is told to Fly: resource.deleted, signed", checkWebhookDeleted},
	}
}

func checkDelete(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.delete(ctx, s.fixture)
	if err != nil {
		return fail("%v", err)
	}
	if a.code < 200 || a.code > 299 {
		s.deleteFailed = true
		return fail("want 2xx, got %s", a)
	}
	return pass("%d", a.code)
}

// gone says whether GET shows the resource deleted: 404 (or 410), or a
// body whose status is deleted.
func (s *Suite) gone(ctx context.Context, id string) (bool, *answer, error) {
	g, err := s.get(ctx, id)
	if err != nil {
		return false, nil, err
	}
	return g.code == http.StatusNotFound || g.code == http.StatusGone || g.str("status") == "deleted", g, nil
}

func checkDeleteFinishes(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	if s.deleteFailed {
		return skip("DELETE was not accepted")
	}
	start := time.Now()
	deadline := start.Add(s.cfg.Timeout)
	codes := map[int]bool{}
	for {
		a, err := s.delete(ctx, s.fixture)
		if err != nil {
			return fail("%v", err)
		}
		codes[a.code] = true
		if a.code >= 500 || (a.code >= 300 && a.code != http.StatusNotFound) {
			return fail("a repeated DELETE answered %s", a)
		}
		done, g, err := s.gone(ctx, s.fixture)
		if err != nil {
			return fail("%v", err)
		}
		if done {
			s.fixtureGone = true
			return pass("gone after %s (GET %d); DELETE answered %s", time.Since(start).Round(100*time.Millisecond), g.code, codeList(codes))
		}
		if time.Now().After(deadline) {
			return fail("still there after %s: GET %s", s.cfg.Timeout, g)
		}
		if err := sleep(ctx, s.cfg.PollInterval); err != nil {
			return fail("%v", err)
		}
	}
}

func checkDeleteAgain(ctx context.Context, s *Suite) Result {
	if !s.fixtureGone {
		return skip("needs the deletion delete.finishes waits for")
	}
	a, err := s.delete(ctx, s.fixture)
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case a.code >= 200 && a.code <= 299:
		return pass("%d", a.code)
	case a.code == http.StatusNotFound || a.code == http.StatusGone:
		return info("%d (the page is silent; Jetway answers 200 so Fly's retries succeed)", a.code)
	}
	return fail("want 2xx or 404, got %s", a)
}

func codeList(codes map[int]bool) string {
	var out []string
	for _, c := range []int{200, 202, 204, 404, 410} {
		if codes[c] {
			out = append(out, fmt.Sprint(c))
		}
	}
	return strings.Join(out, ", ")
}

// cleanup deletes every resource the suite may have made, repeating
// DELETE until GET says each is gone.
func (s *Suite) cleanup(ctx context.Context) Result {
	deadline := time.Now().Add(s.cfg.Timeout)
	pending := map[string]bool{}
	for _, id := range s.made {
		pending[id] = true
	}
	deleted := 0
	var refusedIDs []string
	for {
		for id := range pending {
			a, err := s.delete(ctx, id)
			if err != nil {
				return fail("%v", err)
			}
			if a.code == http.StatusUnauthorized || a.code == http.StatusForbidden {
				// Waiting cannot help: the provider refuses our signature.
				delete(pending, id)
				refusedIDs = append(refusedIDs, id)
				continue
			}
			done, _, err := s.gone(ctx, id)
			if err != nil {
				return fail("%v", err)
			}
			if done {
				delete(pending, id)
				deleted++
			}
		}
		if len(pending) == 0 && len(refusedIDs) > 0 {
			return fail("DELETE refused (%d) for %s; delete them by hand if they exist", http.StatusUnauthorized, strings.Join(refusedIDs, ", "))
		}
		if len(pending) == 0 {
			return pass("all %d ids the suite used are gone", deleted)
		}
		if time.Now().After(deadline) {
			var left []string
			for id := range pending {
				left = append(left, id)
			}
			return fail("still there after %s: %s", s.cfg.Timeout, strings.Join(left, ", "))
		}
		if err := sleep(ctx, s.cfg.PollInterval); err != nil {
			return fail("%v", err)
		}
	}
}
