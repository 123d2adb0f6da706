package gateway

import (
	"fmt"
	"net/url"
	"time"

	"github.com/jetway-dev/jetway/internal/billing"
)

// maxBillingDays is the longest range one billing GET may ask for.
const maxBillingDays = 31

// billingQuery is a parsed GET /billing query.
type billingQuery struct {
	organizationID string
	from, to       string
}

// queryError is a refusal that names the parameter at fault.
type queryError struct {
	param, message string
}

func (e *queryError) Error() string { return e.message }

// parseBillingQuery reads organization_id, from and to (inclusive; to
// defaults to from). today bounds the range: no day after it exists yet.
// The signing parameters (timestamp, nonce, url) are the verifier's, and
// other parameters are ignored, as unknown body fields are.
func parseBillingQuery(q url.Values, today string) (billingQuery, error) {
	var out billingQuery
	single := func(name string, required bool) (string, error) {
		vs, ok := q[name]
		switch {
		case !ok || (len(vs) == 1 && vs[0] == ""):
			if required {
				return "", &queryError{name, fmt.Sprintf("The %s parameter is required.", name)}
			}
			return "", nil
		case len(vs) > 1:
			return "", &queryError{name, fmt.Sprintf("The %s parameter must be given once.", name)}
		}
		return vs[0], nil
	}
	var err error
	if out.organizationID, err = single("organization_id", true); err != nil {
		return out, err
	}
	if len(out.organizationID) > 128 {
		return out, &queryError{"organization_id", "The organization_id parameter is longer than 128 characters."}
	}
	if out.from, err = single("from", true); err != nil {
		return out, err
	}
	if out.to, err = single("to", false); err != nil {
		return out, err
	}
	if out.to == "" {
		out.to = out.from
	}
	from, err := billing.ParseDate(out.from)
	if err != nil {
		return out, &queryError{"from", "The from parameter must be a date of the form YYYY-MM-DD."}
	}
	to, err := billing.ParseDate(out.to)
	if err != nil {
		return out, &queryError{"to", "The to parameter must be a date of the form YYYY-MM-DD."}
	}
	switch {
	case to.Before(from):
		return out, &queryError{"to", "The to parameter is before from."}
	case out.from > today:
		return out, &queryError{"from", fmt.Sprintf("The from parameter is in the future: today is %s (UTC).", today)}
	case out.to > today:
		return out, &queryError{"to", fmt.Sprintf("The to parameter is in the future: today is %s (UTC).", today)}
	case to.Sub(from) >= maxBillingDays*24*time.Hour:
		return out, &queryError{"to", fmt.Sprintf("The range from %s to %s is longer than %d days.", out.from, out.to, maxBillingDays)}
	}
	return out, nil
}
