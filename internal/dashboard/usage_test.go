package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

const (
	usagePath    = "/flyio/dashboard/organizations/" + testOrg + "/usage"
	extUsagePath = usagePath + "/" + testExtID
	goneExtID    = "ext-gone"
)

// withUsage gives testOrg books as the billing controller and the meter
// leave them on 2026-11-23 (the env's clock): 2026-11-20 published with a
// charge of orders-db and of an extension deleted since; days through
// 2026-11-22 closed; today metered so far, one hour of orders-db's
// primary at 2,700 micro-units an hour.
func withUsage(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	ns := domain.Namespace(testOrg)
	day := &jetwayv1.BillingDay{ObjectMeta: metav1.ObjectMeta{Name: "2026-11-20", Namespace: ns},
		Spec: jetwayv1.BillingDaySpec{OrganizationID: testOrg, Date: "2026-11-20", Currency: "USD", TotalMicros: 45_600 + 1_900,
			UnprovenSeconds: 65, ClosedAt: metav1.NewTime(time.Date(2026, 11, 21, 0, 5, 0, 0, time.UTC)),
			Items: []jetwayv1.BillingItem{
				{ExtensionID: goneExtID, ExtensionName: "old-cache", Meter: jetwayv1.MeterMachine, Size: "shared-cpu-1x",
					Region: "iad", QuantitySeconds: 3600, UnitPriceMicrosPerHour: 1900, AmountMicros: 1900},
				{ExtensionID: testExtID, ExtensionName: "orders-db", Meter: jetwayv1.MeterMachine, Size: "shared-cpu-1x",
					Region: "mad", QuantitySeconds: 86_400, UnitPriceMicrosPerHour: 1900, AmountMicros: 45_600},
			}}}
	ledger := &jetwayv1.UsageLedger{ObjectMeta: metav1.ObjectMeta{Name: domain.UsageLedgerName(testExtID), Namespace: ns},
		Spec: jetwayv1.UsageLedgerSpec{ExtensionID: testExtID, ExtensionName: "orders-db", OrganizationID: testOrg, OpenFrom: "2026-11-23",
			Machines: []jetwayv1.MachineUsage{{ID: "m-primary-1", Region: "mad", Segments: []jetwayv1.UsageSegment{{
				From: metav1.NewMicroTime(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)),
				To:   metav1.NewMicroTime(time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)),
				Size: "shared-cpu-1x", UnitPriceMicrosPerHour: 2700}}}}}}
	for _, o := range []client.Object{day, ledger} {
		if err := e.client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var org jetwayv1.Organization
	if err := e.client.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(testOrg)}, &org); err != nil {
		t.Fatal(err)
	}
	org.Status.Usage = &jetwayv1.OrganizationUsage{ClosedThrough: "2026-11-22"}
	if err := e.client.Update(ctx, &org); err != nil {
		t.Fatal(err)
	}
}

// rowsOf splits a page at each occurrence of marker: what follows each.
func rowsOf(body, marker string) []string {
	parts := strings.Split(body, marker)
	return parts[1:]
}

func TestUsagePageShowsTheBillingAPIsDays(t *testing.T) {
	e := newEnv(t)
	withUsage(t, e)
	b := e.browser()
	e.signIn(b, "/flyio/organizations/"+testOrg+"/sso", member)
	if org := b.get(e.url + "/flyio/dashboard/organizations/" + testOrg); !strings.Contains(org.body, `href="`+usagePath+`"`) {
		t.Fatal("the organization page does not link to its usage")
	}

	r := b.get(e.url + usagePath)
	if r.code != http.StatusOK {
		t.Fatalf("usage page answered %d: %s", r.code, r.body)
	}
	rows := rowsOf(r.body, `<tr data-date="`)
	bars := rowsOf(r.body, `<rect data-date="`)
	if len(rows) != 31 || len(bars) != 31 {
		t.Fatalf("%d table rows and %d bars, want 31 of each", len(rows), len(bars))
	}
	// The same days GET /billing answers for this range, in its order.
	var org jetwayv1.Organization
	_ = e.client.Get(context.Background(), client.ObjectKey{Name: domain.OrganizationName(testOrg)}, &org)
	books, err := domain.BooksOf(context.Background(), e.client, &org)
	if err != nil {
		t.Fatal(err)
	}
	api := books.Range("2026-10-24", "2026-11-23")
	for i, d := range api {
		status := "so far"
		if d.Final {
			status = "final"
		}
		want := d.Date + `" data-total-micros="` // the row's own date first
		if !strings.HasPrefix(rows[i], want) || !strings.Contains(rows[i], ">"+billing.FormatMicros(d.TotalMicros, "USD")+"<") ||
			!strings.Contains(rows[i], "<td>"+status+"</td>") {
			t.Errorf("row %d is not the API's %+v:\n%s", i, d, rows[i])
		}
		if !strings.HasPrefix(bars[i], d.Date+`"`) {
			t.Errorf("bar %d is not for %s", i, d.Date)
		}
	}
	for _, want := range []string{
		`<td class="num total">0.047500 USD</td><td>final</td><td>1 min 05 s</td>`, // 2026-11-20, with unproven time
		`<td class="num total">0.002700 USD</td><td>so far</td>`,                   // today
		`role="img" aria-label="Daily totals from 2026-10-24 to 2026-11-23; the highest is 0.047500 USD on 2026-11-20"`,
		`<title>2026-11-23: 0.002700 USD (so far)</title>`,
		`href="` + extUsagePath + `">orders-db</a></td><td class="num">0.048300 USD`,
		`href="` + usagePath + "/" + goneExtID + `">old-cache</a> <span class="muted">(deleted)</span></td><td class="num">0.001900 USD`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the usage page lacks %s", want)
		}
	}
	if strings.Contains(r.body, "<script") {
		t.Error("the usage page carries a script")
	}
}

func TestExtensionUsageShowsItsItemsDayByDay(t *testing.T) {
	e := newEnv(t)
	withUsage(t, e)
	b := e.browser()
	e.signIn(b, extSSO, member)

	page := b.get(e.url + extPage)
	if !strings.Contains(page.body, `id="usage-today-total">0.002700 USD<`) || !strings.Contains(page.body, `href="`+extUsagePath+`"`) {
		t.Errorf("the extension page lacks today's usage or its link to the drill-down:\n%s", page.body)
	}

	r := b.get(e.url + extUsagePath)
	if r.code != http.StatusOK {
		t.Fatalf("drill-down answered %d: %s", r.code, r.body)
	}
	if days := rowsOf(r.body, `<tbody data-date="`); len(days) != 31 {
		t.Fatalf("%d days in the drill-down, want 31", len(days))
	}
	if n := len(rowsOf(r.body, `<rect data-date="`)); n != 31 {
		t.Errorf("%d bars in the drill-down, want 31", n)
	}
	items := rowsOf(r.body, `<tr class="item">`)
	if len(items) != 2 {
		t.Fatalf("%d items, want orders-db's 2 (2026-11-20 and today)", len(items))
	}
	for i, want := range []string{
		`<td>2026-11-20</td><td>machine</td><td>shared-cpu-1x</td><td>mad</td><td class="num" data-seconds="86400">24 h 00 min 00 s</td><td class="num">0.001900 USD / hour</td><td class="num">0.045600 USD</td>`,
		`<td>2026-11-23</td><td>machine</td><td>shared-cpu-1x</td><td>mad</td><td class="num" data-seconds="3600">1 h 00 min 00 s</td><td class="num">0.002700 USD / hour</td><td class="num">0.002700 USD</td>`,
	} {
		if !strings.HasPrefix(items[i], want) {
			t.Errorf("item %d = %s\nwant %s", i, items[i], want)
		}
	}
	if strings.Contains(r.body, "old-cache") || strings.Contains(r.body, "iad") {
		t.Error("another extension's charge shows in orders-db's drill-down")
	}
	if !strings.Contains(r.body, `id="usage-total">0.048300 USD<`) {
		t.Error("the drill-down's total is not the sum of its items")
	}

	// A deleted extension's charges can still be looked at.
	if r := b.get(e.url + usagePath + "/" + goneExtID); r.code != http.StatusOK || !strings.Contains(r.body, "0.001900 USD") {
		t.Errorf("a deleted extension's drill-down answered %d", r.code)
	}
	if r := b.get(e.url + usagePath + "/nope"); r.code != http.StatusNotFound {
		t.Errorf("an unknown extension's drill-down answered %d", r.code)
	}
}

func TestUsageOfAnotherOrganizationIsRefused(t *testing.T) {
	e := newEnv(t)
	withUsage(t, e)
	// The outsider administers globex, which has an extension here too.
	ctx := context.Background()
	globex := &jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName("globex")},
		Spec: jetwayv1.OrganizationSpec{ID: "globex"}}
	ext := &jetwayv1.Extension{ObjectMeta: metav1.ObjectMeta{Name: domain.ExtensionName("ext-g"), Namespace: domain.Namespace("globex")},
		Spec: jetwayv1.ExtensionSpec{ID: "ext-g", Name: "globex-db", Organization: jetwayv1.OrganizationRef{ID: "globex"}, PrimaryRegion: "ams"}}
	for _, o := range []client.Object{globex, ext} {
		if err := e.client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	if r := e.browser().get(e.url + extUsagePath); r.code != http.StatusUnauthorized || strings.Contains(r.body, "0.0") {
		t.Errorf("the drill-down without a session answered %d", r.code)
	}
	b := e.browser()
	if r := e.signIn(b, "/flyio/organizations/globex/sso", outsider); r.code != http.StatusSeeOther {
		t.Fatalf("outsider's sign-in into globex answered %d: %s", r.code, r.body)
	}
	if r := b.get(e.url + "/flyio/dashboard/organizations/globex/usage"); r.code != http.StatusOK || !strings.Contains(r.body, "globex-db") {
		t.Fatalf("globex's own usage answered %d", r.code)
	}
	for _, path := range []string{usagePath, extUsagePath} {
		r := b.get(e.url + path)
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "Not your organization") ||
			strings.Contains(r.body, "orders-db") || strings.Contains(r.body, "USD") {
			t.Errorf("%s answered %d to an outsider:\n%s", path, r.code, r.body)
		}
	}
	// acme's extension id under the outsider's own organization: globex's
	// books do not hold it, so there is nothing to show.
	r := b.get(e.url + "/flyio/dashboard/organizations/globex/usage/" + testExtID)
	if r.code != http.StatusNotFound || strings.Contains(r.body, "orders-db") || strings.Contains(r.body, "0.045600") {
		t.Errorf("acme's extension under globex answered %d:\n%s", r.code, r.body)
	}
}
