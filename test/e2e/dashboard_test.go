package e2e

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestDashboardInABrowser is `flyctl ext <provider> dashboard` end to end:
// real chromium opens the SSO URL of an extension on the dev stack, signs
// in on flysim's Fly login page, and lands on the extension's page.
func TestDashboardInABrowser(t *testing.T) {
	b := startBrowser(t)
	s := startDev(t)
	users := map[string]flysim.OAuthUser{}
	for _, u := range flysim.DefaultOAuthUsers() {
		users[strings.Fields(u.Name)[1]] = u // Admin, Member, Outsider
	}

	if out := s.jetway("fly", "create", "--id", "dash-1", "--name", "dash-db", "--org-id", "acme",
		"--primary-region", "mad", "--read-regions", "syd"); !strings.HasPrefix(out, "HTTP 201") {
		t.Fatalf("create: %s", out)
	}
	s.kubectlRun("wait", "--for=condition=Ready", "ext", "--all", "-A", "--timeout=120s")
	gateway := s.env["JETWAY_GATEWAY_URL"]
	sso := gateway + "/extensions/dash-1/sso"
	page := gateway + "/dashboard/extensions/dash-1"

	t.Run("admin signs in and reveals the connection", func(t *testing.T) {
		admin := b.session(t, "admin")
		admin.do("open the SSO URL", chromedp.Navigate(sso), chromedp.WaitVisible(chromedp.ID("login-"+users["Admin"].ID)))
		if loc := admin.location(); !strings.HasPrefix(loc, s.env["FLYSIM_URL"]+"/oauth/authorize?") {
			t.Fatalf("SSO led to %s, not Fly's sign-in", loc)
		}
		admin.screenshot("1-fly-sign-in")
		admin.do("sign in at Fly", chromedp.Click(chromedp.ID("login-"+users["Admin"].ID)), chromedp.WaitVisible(chromedp.ID("status")))
		if loc := admin.location(); loc != page {
			t.Fatalf("signed in at %s, want the extension page %s", loc, page)
		}
		if got := admin.text("#status"); got != "ready" {
			t.Errorf("status = %q, want ready", got)
		}
		if n := admin.count("#machines tr[data-machine-id]"); n != 2 {
			t.Errorf("%d machines shown, want 2 (mad, syd)", n)
		}
		if got := admin.text(`#machines tr[data-region="syd"] .machine-state`); got != "started" {
			t.Errorf("syd machine state = %q, want started", got)
		}
		if got := admin.text("#dns-name"); !strings.HasPrefix(got, "dash-db.") {
			t.Errorf("DNS name = %q", got)
		}
		if got := admin.text("#flycast-ip"); !strings.HasPrefix(got, "fdaa:") {
			t.Errorf("Flycast address = %q, want a private fdaa: address", got)
		}
		// Each machine's creation is its own event, not folded into one.
		if got := admin.text("#events"); !strings.Contains(got, "Created primary machine") || !strings.Contains(got, "Created replica machine") {
			t.Errorf("recent events lack a machine's creation:\n%s", got)
		}
		if n := admin.count("#connection"); n != 0 {
			t.Error("the connection details show before they are revealed")
		}
		admin.screenshot("2-extension")

		admin.do("reveal", chromedp.Click(chromedp.ID("reveal")), chromedp.WaitVisible(chromedp.ID("connection")))
		if got := admin.text("#connection"); !strings.Contains(got, "postgres://dash-db:") {
			t.Errorf("revealed connection = %q, want the postgres URL", got)
		}
		admin.screenshot("3-revealed")

		// Signed in, the SSO URL goes straight to the page.
		admin.do("open the SSO URL again", chromedp.Navigate(sso), chromedp.WaitVisible(chromedp.ID("status")))
		if loc := admin.location(); loc != page {
			t.Errorf("a signed-in SSO went to %s", loc)
		}
		admin.do("sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("message")))
		if got := admin.text("#message h1"); got != "Signed out" {
			t.Errorf("after sign-out the page says %q", got)
		}
		admin.do("open the page signed out", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("message")))
		if got := admin.text("#message h1"); got != "Sign in" {
			t.Errorf("signed out, the page says %q", got)
		}
	})

	t.Run("member sees the extension but is refused the connection", func(t *testing.T) {
		member := b.session(t, "member")
		member.do("sign in", chromedp.Navigate(sso), chromedp.Click(chromedp.ID("login-"+users["Member"].ID)),
			chromedp.WaitVisible(chromedp.ID("status")))
		if got := member.text("#connection-admins-only"); !strings.Contains(got, "Only admins") {
			t.Errorf("member sees %q instead of the admins-only note", got)
		}
		member.screenshot("1-extension")
		// The button is disabled for members; a member who enables it
		// anyway is refused by the server.
		member.do("force the reveal", chromedp.RemoveAttribute(chromedp.ID("reveal"), "disabled"),
			chromedp.Click(chromedp.ID("reveal")), chromedp.WaitVisible(chromedp.ID("message")))
		if got := member.text("#message h1"); got != "Admins only" {
			t.Errorf("member's reveal answered %q", got)
		}
		if n := member.count("#connection"); n != 0 {
			t.Error("a member saw the connection details")
		}
		member.screenshot("2-reveal-refused")
	})

	t.Run("member reads the organization's usage and drills into the extension", func(t *testing.T) {
		// The default plan is priced, so the two machines cost something
		// once a look has proven a few seconds of them running.
		s.waitForUsage(t, "dash-1")
		member := b.session(t, "usage")
		member.do("sign in to the organization", chromedp.Navigate(gateway+"/organizations/acme/sso"),
			chromedp.Click(chromedp.ID("login-"+users["Member"].ID)), chromedp.WaitVisible(chromedp.ID("usage-link")))
		member.do("open the usage page", chromedp.Click(chromedp.ID("usage-link")), chromedp.WaitVisible(chromedp.ID("usage-chart")))
		if loc := member.location(); loc != gateway+"/dashboard/organizations/acme/usage" {
			t.Fatalf("the usage link led to %s", loc)
		}
		rows := member.attributes("#usage-days tbody tr")
		if len(rows) != 31 {
			t.Fatalf("%d days in the usage table, want 31", len(rows))
		}
		bars := member.attributes("#usage-chart rect")
		if len(bars) != 31 {
			t.Fatalf("%d bars in the chart, want 31", len(bars))
		}
		for i := range bars {
			if bars[i]["data-date"] != rows[i]["data-date"] {
				t.Errorf("bar %d is for %s, row %d for %s", i, bars[i]["data-date"], i, rows[i]["data-date"])
			}
		}
		// Today has usage; its bar is drawn, and the tallest bar fills the chart.
		tallest := 0
		for _, bar := range bars {
			h, _ := strconv.Atoi(bar["height"])
			tallest = max(tallest, h)
		}
		if bars[30]["height"] == "0" || tallest != 120 {
			t.Errorf("today's bar is %s high and the tallest %d; want today's drawn and the tallest 120", bars[30]["height"], tallest)
		}
		member.screenshot("1-usage")
		s.checkUsageMatchesTheBillingAPI(t, member, rows[0]["data-date"], rows[30]["data-date"])

		member.do("drill into the extension", chromedp.Click(chromedp.CSS(`#usage-extensions tr[data-extension-id="dash-1"] a`)),
			chromedp.WaitVisible(chromedp.ID("extension-usage")))
		if n := member.count("#extension-usage tbody[data-date]"); n != 31 {
			t.Errorf("%d days in the drill-down, want 31", n)
		}
		if n := member.count("#usage-chart rect"); n != 31 {
			t.Errorf("%d bars in the drill-down's chart, want 31", n)
		}
		today := rows[30]["data-date"]
		items := member.text(`#extension-usage tbody[data-date="` + today + `"]`)
		for _, want := range []string{"machine", "shared-cpu-1x", "mad", "syd", "0.002700 USD / hour"} {
			if !strings.Contains(items, want) {
				t.Errorf("today's items lack %q:\n%s", want, items)
			}
		}
		member.screenshot("2-extension-usage")

		member.do("open the extension", chromedp.Click(chromedp.ID("extension-link")), chromedp.WaitVisible(chromedp.ID("usage-today")))
		if got := member.text("#usage-today-total"); !strings.HasSuffix(got, " USD") || got == "0.000000 USD" {
			t.Errorf("the extension page's usage today = %q, want a non-zero amount", got)
		}
		member.screenshot("3-extension-usage-today")
	})

	t.Run("a user of another organization is refused", func(t *testing.T) {
		outsider := b.session(t, "outsider")
		outsider.do("sign in", chromedp.Navigate(sso), chromedp.Click(chromedp.ID("login-"+users["Outsider"].ID)),
			chromedp.WaitVisible(chromedp.ID("message")))
		if got := outsider.text("#message h1"); got != "Not your organization" {
			t.Errorf("outsider sees %q", got)
		}
		outsider.screenshot("1-refused")
		for _, p := range []string{page, gateway + "/dashboard/organizations/acme/usage", gateway + "/dashboard/organizations/acme/usage/dash-1"} {
			outsider.do("open "+p, chromedp.Navigate(p), chromedp.WaitVisible(chromedp.ID("message")))
			if got := outsider.text("#message h1"); got != "Sign in" {
				t.Errorf("the refused outsider got a session: %s says %q", p, got)
			}
		}
	})

	// Both members were recorded in the Organization, with Fly's roles;
	// the outsider was not.
	members := s.kubectlRun("get", "organization", domain.OrganizationName("acme"),
		"-o", `jsonpath={range .spec.members[*]}{.userID}={.role}{"\n"}{end}`)
	for _, want := range []string{users["Admin"].ID + "=admin", users["Member"].ID + "=member"} {
		if !strings.Contains(members, want) {
			t.Errorf("Organization members lack %s:\n%s", want, members)
		}
	}
	if strings.Contains(members, users["Outsider"].ID) {
		t.Errorf("the outsider was recorded as a member:\n%s", members)
	}
	s.stop()
}

// waitForUsage waits until the extension's GET shows a charge today.
func (s *stack) waitForUsage(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var got struct {
			Usage billing.DayEntry `json:"usage"`
		}
		s.decode(t, s.jetway("fly", "get", id), &got)
		if got.Usage.TotalMicros > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("extension %s has no usage after 2 minutes: %+v", id, got.Usage)
		}
		time.Sleep(time.Second)
	}
}

// checkUsageMatchesTheBillingAPI reloads the usage page between two billing
// GETs for the same days: when the two answers agree (no look moved today's
// figure in between), the page must show exactly their totals.
func (s *stack) checkUsageMatchesTheBillingAPI(t *testing.T, page *session, from, to string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		before := s.billing(t, "acme", from, to)
		page.do("reload the usage page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("usage-chart")))
		rows := page.attributes("#usage-days tbody tr")
		after := s.billing(t, "acme", from, to)
		if !reflect.DeepEqual(before, after) {
			if attempt == 5 {
				t.Fatal("the billing API's answer moved during each of 5 page loads")
			}
			continue
		}
		if len(rows) != len(before.Days) {
			t.Fatalf("the page shows %d days, the billing API %d", len(rows), len(before.Days))
		}
		for i, d := range before.Days {
			if rows[i]["data-date"] != d.Date || rows[i]["data-total-micros"] != strconv.FormatInt(d.TotalMicros, 10) {
				t.Errorf("row %d shows %s %s micro-units; the billing API %s %d", i,
					rows[i]["data-date"], rows[i]["data-total-micros"], d.Date, d.TotalMicros)
			}
		}
		shown := page.text(`#usage-days tr[data-date="` + to + `"] .total`)
		if want := billing.FormatMicros(before.Days[len(before.Days)-1].TotalMicros, before.Currency); shown != want {
			t.Errorf("today's total reads %q, want %q", shown, want)
		}
		return
	}
}

// billing is Fly's billing pull, through jetway-dev fly billing.
func (s *stack) billing(t *testing.T, org, from, to string) billing.Statement {
	t.Helper()
	var st billing.Statement
	s.decode(t, s.jetway("fly", "billing", "--org", org, "--from", from, "--to", to), &st)
	return st
}

// decode reads the JSON body of a jetway-dev fly answer that must be 200.
func (s *stack) decode(t *testing.T, out string, v any) {
	t.Helper()
	status, body, _ := strings.Cut(out, "\n")
	if status != "HTTP 200" {
		t.Fatalf("want HTTP 200, got:\n%s", out)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}
