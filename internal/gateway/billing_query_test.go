package gateway

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jetway-dev/jetway/internal/billing"
)

const queryToday = "2026-12-07"

func TestParseBillingQueryAccepts(t *testing.T) {
	for query, want := range map[string]billingQuery{
		"organization_id=o&from=2026-12-05&to=2026-12-07":              {"o", "2026-12-05", "2026-12-07"},
		"organization_id=o&from=2026-12-05":                            {"o", "2026-12-05", "2026-12-05"},
		"organization_id=o&from=2026-12-07&to=":                        {"o", "2026-12-07", "2026-12-07"},
		"organization_id=o&from=2026-11-07&to=2026-12-07":              {"o", "2026-11-07", "2026-12-07"}, // 31 days
		"organization_id=o&from=2026-12-05&nonce=n&timestamp=1&url=u":  {"o", "2026-12-05", "2026-12-05"},
		"organization_id=o&from=2026-12-05&something_new=kept-ignored": {"o", "2026-12-05", "2026-12-05"},
	} {
		q, _ := url.ParseQuery(query)
		got, err := parseBillingQuery(q, queryToday)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", query, got, err, want)
		}
	}
}

// Every refusal names the parameter at fault.
func TestParseBillingQueryRefusals(t *testing.T) {
	for query, param := range map[string]string{
		"from=2026-12-05":                                                  "organization_id",
		"organization_id=&from=2026-12-05":                                 "organization_id",
		"organization_id=a&organization_id=b&from=2026-12-05":              "organization_id",
		"organization_id=" + strings.Repeat("x", 129) + "&from=2026-12-05": "organization_id",
		"organization_id=o":                                                "from",
		"organization_id=o&from=2026-12-5":                                 "from",
		"organization_id=o&from=2026-02-30":                                "from",
		"organization_id=o&from=2026-12-05T00:00:00Z":                      "from",
		"organization_id=o&from=20261205":                                  "from",
		"organization_id=o&from=2026-12-05&from=2026-12-06":                "from",
		"organization_id=o&from=2026-12-08":                                "from",
		"organization_id=o&from=2026-12-05&to=2026-12-08":                  "to",
		"organization_id=o&from=2026-12-05&to=2026-12-04":                  "to",
		"organization_id=o&from=2026-11-06&to=2026-12-07":                  "to", // 32 days
		"organization_id=o&from=2026-12-05&to=yesterday":                   "to",
		"organization_id=o&from=2026-12-05&to=a&to=b":                      "to",
	} {
		q, _ := url.ParseQuery(query)
		_, err := parseBillingQuery(q, queryToday)
		var qe *queryError
		if !errors.As(err, &qe) || qe.param != param {
			t.Errorf("%s: got %v, want a refusal of %s", query, err, param)
		}
	}
}

// FuzzParseBillingQuery: whatever query comes in, the parser answers a
// refusal naming a parameter or a range that is valid: dates of the form
// YYYY-MM-DD, in order, at most 31 days, none after today.
func FuzzParseBillingQuery(f *testing.F) {
	for _, seed := range []string{
		"organization_id=o&from=2026-12-05&to=2026-12-07", "organization_id=o&from=2026-12-05",
		"organization_id=o&from=2026-11-06&to=2026-12-07", "from=%zz", "organization_id=%00&from=0000-01-01",
		"organization_id=o&from=9999-12-31", "a=b;c=d", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := parseBillingQuery(q, queryToday)
		if err != nil {
			var qe *queryError
			if !errors.As(err, &qe) || qe.param == "" || qe.message == "" {
				t.Fatalf("%q: refusal %v names no parameter", raw, err)
			}
			return
		}
		from, ferr := billing.ParseDate(got.from)
		to, terr := billing.ParseDate(got.to)
		if ferr != nil || terr != nil || got.organizationID == "" || to.Before(from) ||
			got.to > queryToday || to.Sub(from) > 30*billing.Day {
			t.Fatalf("%q: accepted %+v", raw, got)
		}
	})
}
