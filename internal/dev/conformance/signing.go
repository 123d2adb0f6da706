package conformance

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The signing contract (page, "Authentication and Request Signing"): every
// request carries X-Signature, the HMAC-SHA256 with the shared secret of
// the body (POST, PATCH) or the query string (GET, DELETE), and the
// parameters timestamp, nonce and url. The page requires the HMAC check
// and recommends the url check; a timestamp window and single-use nonces
// are what the parameters are for ("to help you verify the authenticity
// of requests"). Each check sends one bent request and then looks, with
// a correct one, that nothing changed.

const staleBy = 10 * time.Minute

func signingChecks() []check {
	wrong := func(s *Suite) tweak { return tweak{secret: append([]byte("not-"), s.cfg.Secret...)} }
	post := func(tw func(s *Suite) tweak) func(context.Context, *Suite) Result {
		return func(ctx context.Context, s *Suite) Result { return refusedPost(ctx, s, tw(s)) }
	}
	fixed := func(tw tweak) func(*Suite) tweak { return func(*Suite) tweak { return tw } }
	return []check{
		{"sign.unsigned", "POST without X-Signature is refused, nothing created", post(fixed(tweak{unsigned: true}))},
		{"sign.wrong-secret", "POST signed with another secret is refused, nothing created", post(wrong)},
		{"sign.tampered-body", "POST whose body changed after signing is refused, nothing created", post(fixed(tweak{tamper: tamperBody}))},
		{"sign.stale-timestamp", "POST with a timestamp 10 min old is refused, nothing created", post(fixed(tweak{timestampAdj: -staleBy}))},
		{"sign.future-timestamp", "POST with a timestamp 10 min ahead is refused, nothing created", post(fixed(tweak{timestampAdj: staleBy}))},
		{"sign.missing-timestamp", "POST without timestamp is refused, nothing created", post(fixed(tweak{omit: "timestamp"}))},
		{"sign.missing-nonce", "POST without nonce is refused, nothing created", post(fixed(tweak{omit: "nonce"}))},
		{"sign.missing-url", "POST without url is refused, nothing created", post(fixed(tweak{omit: "url"}))},
		{"sign.url-other-host", "POST signed for another host is refused, nothing created", post(func(s *Suite) tweak {
			return tweak{url: "https://other-provider.example/flyio/extensions"}
		})},
		{"sign.url-other-path", "POST signed for another path is refused, nothing created", post(func(s *Suite) tweak {
			return tweak{url: s.target("/extensions/elsewhere")}
		})},
		{"sign.replayed-post", "the same signed POST bytes a second time are refused", checkReplayPost},
		{"sign.get-unsigned", "GET without X-Signature is refused and shows nothing", checkGetRefused(tweak{unsigned: true})},
		{"sign.get-tampered-query", "GET whose query changed after signing is refused", checkGetRefused(tweak{tamper: func(q []byte) []byte {
			return append(q, []byte("&extra=1")...)
		}})},
		{"sign.patch-wrong-secret", "PATCH signed with another secret is refused, read_regions unchanged", func(ctx context.Context, s *Suite) Result {
			return refusedPatch(ctx, s, wrong(s))
		}},
		{"sign.patch-stale-timestamp", "PATCH with a timestamp 10 min old is refused, read_regions unchanged", func(ctx context.Context, s *Suite) Result {
			return refusedPatch(ctx, s, tweak{timestampAdj: -staleBy})
		}},
		{"sign.replayed-patch", "an earlier PATCH replayed after a later one is refused, the later one stands", checkReplayPatch},
		{"sign.delete-unsigned", "DELETE without X-Signature is refused, the resource stays", func(ctx context.Context, s *Suite) Result {
			return refusedDelete(ctx, s, tweak{unsigned: true})
		}},
		{"sign.delete-other-url", "DELETE signed for another extension's URL is refused, the resource stays", func(ctx context.Context, s *Suite) Result {
			return refusedDelete(ctx, s, tweak{url: s.target(extPath(s.fixture + "-other"))})
		}},
	}
}

// refused judges the answer to a bent request: 401 or 403 pass; another
// 4xx passes with a note (the page names no code).
func refused(a *answer) (Result, bool) {
	switch {
	case a.code == http.StatusUnauthorized || a.code == http.StatusForbidden:
		return pass("%d %s", a.code, a.str("error")), true
	case a.code >= 400 && a.code < 500:
		return pass("refused with %d (Jetway answers 401)", a.code), true
	}
	return fail("accepted or failed instead of refused: %s", a), false
}

// tamperBody changes the provisioning user's role after signing, keeping
// the JSON valid.
func tamperBody(b []byte) []byte {
	return bytes.Replace(b, []byte(`"user_role":"admin"`), []byte(`"user_role":"member"`), 1)
}

func refusedPost(ctx context.Context, s *Suite, tw tweak) Result {
	id, name := s.newID()
	a, err := s.call(ctx, http.MethodPost, "/extensions", s.provisionBody(id, name), nil, tw)
	if err != nil {
		return fail("%v", err)
	}
	res, ok := refused(a)
	if !ok {
		return res
	}
	g, err := s.get(ctx, id)
	if err != nil {
		return fail("%v", err)
	}
	if g.code != http.StatusNotFound {
		return fail("refused, but GET of the id then answers %s", g)
	}
	res.Reason += "; GET 404"
	return res
}

func checkReplayPost(ctx context.Context, s *Suite) Result {
	id, name := s.newID()
	req := s.build(http.MethodPost, "/extensions", s.provisionBody(id, name), nil, tweak{})
	first, err := s.do(ctx, req)
	if err != nil {
		return fail("%v", err)
	}
	if first.code < 200 || first.code > 299 {
		return fail("the first, correct POST was not accepted: %s", first)
	}
	again, err := s.do(ctx, req)
	if err != nil {
		return fail("%v", err)
	}
	res, _ := refused(again)
	return res
}

func checkGetRefused(tw tweak) func(context.Context, *Suite) Result {
	return func(ctx context.Context, s *Suite) Result {
		if r, ok := needFixture(s); !ok {
			return r
		}
		a, err := s.call(ctx, http.MethodGet, extPath(s.fixture), nil, nil, tw)
		if err != nil {
			return fail("%v", err)
		}
		res, ok := refused(a)
		if ok && strings.Contains(string(a.body), `"config"`) {
			return fail("refused with %d, but the body carries the config", a.code)
		}
		return res
	}
}

func refusedPatch(ctx context.Context, s *Suite, tw tweak) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.call(ctx, http.MethodPatch, extPath(s.fixture), map[string]any{"read_regions": []string{"syd", "scl"}}, nil, tw)
	if err != nil {
		return fail("%v", err)
	}
	res, ok := refused(a)
	if !ok {
		return res
	}
	if diff := s.unchanged(ctx); diff != "" {
		return fail("refused, but %s", diff)
	}
	res.Reason += "; read_regions unchanged"
	return res
}

func checkReplayPatch(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	earlier := s.build(http.MethodPatch, extPath(s.fixture), map[string]any{"read_regions": []string{}}, nil, tweak{})
	a, err := s.do(ctx, earlier)
	if err != nil {
		return fail("%v", err)
	}
	if a.code < 200 || a.code > 299 {
		return fail("a correct PATCH was not accepted: %s", a)
	}
	s.regions = nil
	later := []string{s.cfg.ReadRegion}
	if a, err = s.patch(ctx, s.fixture, map[string]any{"read_regions": later}); err != nil {
		return fail("%v", err)
	}
	if a.code < 200 || a.code > 299 {
		return fail("a correct PATCH was not accepted: %s", a)
	}
	s.regions = later
	// The replay must be judged against a GET that already shows the
	// later PATCH.
	if _, got, err := s.waitRegions(ctx, later); err != nil {
		return fail("%v", err)
	} else if !slices.Equal(got, later) {
		return fail("a correct PATCH was accepted, but GET shows read_regions %v, want %v", got, later)
	}
	again, err := s.do(ctx, earlier)
	if err != nil {
		return fail("%v", err)
	}
	res, ok := refused(again)
	if !ok {
		return res
	}
	if diff := s.unchanged(ctx); diff != "" {
		return fail("refused, but %s", diff)
	}
	res.Reason += "; read_regions unchanged"
	return res
}

func refusedDelete(ctx context.Context, s *Suite, tw tweak) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.call(ctx, http.MethodDelete, extPath(s.fixture), nil, nil, tw)
	if err != nil {
		return fail("%v", err)
	}
	res, ok := refused(a)
	if !ok {
		return res
	}
	if diff := s.unchanged(ctx); diff != "" {
		return fail("refused, but %s", diff)
	}
	res.Reason += "; still there"
	return res
}
