package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

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

	t.Run("a user of another organization is refused", func(t *testing.T) {
		outsider := b.session(t, "outsider")
		outsider.do("sign in", chromedp.Navigate(sso), chromedp.Click(chromedp.ID("login-"+users["Outsider"].ID)),
			chromedp.WaitVisible(chromedp.ID("message")))
		if got := outsider.text("#message h1"); got != "Not your organization" {
			t.Errorf("outsider sees %q", got)
		}
		outsider.screenshot("1-refused")
		outsider.do("open the page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("message")))
		if got := outsider.text("#message h1"); got != "Sign in" {
			t.Errorf("the refused outsider got a session: the page says %q", got)
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
