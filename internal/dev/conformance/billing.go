package conformance

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The page asks for "a minimal billing API for fetching costs" that Fly
// queries daily, and defines no shape. These checks follow Jetway's
// (README "Billing": GET {base}/billing?organization_id=&from=&to=, signed
// like every GET, answering {organization_id, currency, days: [{date,
// final, total_micros, items}]}) and skip when the provider has no such
// endpoint.

func billingChecks() []check {
	return []check{
		{"billing.shape", "GET /billing answers the organization's days (when the endpoint exists)", checkBillingShape},
		{"billing.unsigned", "GET /billing without X-Signature is refused", checkBillingUnsigned},
	}
}

func (s *Suite) billingQuery() url.Values {
	today := time.Now().UTC().Format(time.DateOnly)
	return url.Values{"organization_id": {s.fixtureOrg}, "from": {today}, "to": {today}}
}

func checkBillingShape(ctx context.Context, s *Suite) Result {
	if r, ok := needFixture(s); !ok {
		return r
	}
	a, err := s.call(ctx, http.MethodGet, "/billing", nil, s.billingQuery(), tweak{})
	if err != nil {
		return fail("%v", err)
	}
	if a.code == http.StatusNotFound || a.code == http.StatusMethodNotAllowed {
		if a.str("error") == "unknown_organization" {
			s.billing = true
			return info("404 unknown_organization for an organization with a live resource")
		}
		return skip("no billing endpoint (%d)", a.code)
	}
	s.billing = true
	if a.code != http.StatusOK {
		return fail("want 200, got %s", a)
	}
	obj := a.object()
	if obj == nil {
		return fail("not a JSON object: %s", a)
	}
	if org, _ := obj["organization_id"].(string); org != s.fixtureOrg {
		return fail("organization_id is %v, want %q", obj["organization_id"], s.fixtureOrg)
	}
	days, ok := obj["days"].([]any)
	if !ok {
		return fail("no days array")
	}
	for _, d := range days {
		day, _ := d.(map[string]any)
		if _, ok := day["date"].(string); !ok {
			return fail("a day without a date: %v", d)
		}
		if _, ok := day["items"].([]any); !ok && day["items"] != nil {
			return fail("a day whose items are not a list: %v", d)
		}
		if _, ok := day["total_micros"].(float64); !ok {
			return fail("a day without total_micros: %v", d)
		}
	}
	return pass("200, %d day(s)", len(days))
}

func checkBillingUnsigned(ctx context.Context, s *Suite) Result {
	if !s.billing {
		return skip("no billing endpoint")
	}
	a, err := s.call(ctx, http.MethodGet, "/billing", nil, s.billingQuery(), tweak{unsigned: true})
	if err != nil {
		return fail("%v", err)
	}
	res, _ := refused(a)
	return res
}
