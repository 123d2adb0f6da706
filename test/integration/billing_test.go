package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/domain"
)

// billingGet calls GET /billing as Fly does, signed.
func billingGet(t *testing.T, params map[string]any) (int, billing.Statement, map[string]any) {
	t.Helper()
	resp, err := flyAPI.Do(ctxFor(t), http.MethodGet, "/billing", params)
	if err != nil {
		t.Fatalf("GET /billing: %v", err)
	}
	var st billing.Statement
	if resp.StatusCode == http.StatusOK {
		if err := resp.JSON(&st); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, st, nil
	}
	return resp.StatusCode, st, jsonBody(t, resp)
}

// TestBillingMetersWhatRanOnFly: a priced extension's machine time today
// is metered from Fly's own events, never more than flysim says ran, and
// answered to Fly's billing pull and on the extension's GET.
func TestBillingMetersWhatRanOnFly(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	id, org := uniqueID("bill"), uniqueID("billorg")
	plan := &jetwayv1.ExtensionPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "priced-" + id},
		Spec: jetwayv1.ExtensionPlanSpec{
			Image:      standardImage,
			Connection: jetwayv1.ConnectionSpec{Config: map[string]string{"LOGJAM_URL": connTemplate}, Port: 5432},
			Pricing:    jetwayv1.PricingSpec{MachineHourMicros: 1, MachineHourMicrosBySize: []jetwayv1.SizePrice{{Size: "shared-cpu-1x", MachineHourMicros: 3_600_000}}},
		},
	}
	g.Expect(k8s.Create(ctx, plan)).To(gomega.Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctxFor(t), plan) })
	req := provisionRequest(id, "bill-"+id, org)
	req["plan"] = plan.Name
	provision(t, req)
	ext := waitReady(t, id)
	machineID := ext.Status.Machines[0].ID
	today := billing.DateOf(time.Now())

	// Within a resync or two the ledger proves some seconds of running.
	var item billing.ItemEntry
	g.Eventually(func() int64 {
		code, st, _ := billingGet(t, map[string]any{"organization_id": org, "from": today})
		if code != http.StatusOK || len(st.Days) != 1 || len(st.Days[0].Items) == 0 {
			return 0
		}
		item = st.Days[0].Items[0]
		return item.QuantitySeconds
	}).WithTimeout(30 * time.Second).Should(gomega.BeNumerically(">=", 3))
	ran := sim.RunningTime(machineID, billing.StartOf(today), time.Now())
	g.Expect(time.Duration(item.QuantitySeconds)*time.Second).To(gomega.BeNumerically("<=", ran+time.Second),
		"billed more than flysim says the machine ran")
	g.Expect(item).To(gomega.And(
		gomega.HaveField("ExtensionID", id), gomega.HaveField("Meter", "machine"),
		gomega.HaveField("Size", "shared-cpu-1x"), gomega.HaveField("Region", "iad"),
		gomega.HaveField("UnitPriceMicrosPerHour", int64(3_600_000)),
		// 3,600,000 micro-units an hour is 1,000 a second.
		gomega.HaveField("AmountMicros", item.QuantitySeconds*1000)))

	// The extension's GET carries today's usage.
	resp, err := flyAPI.Get(ctx, id)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	usage, _ := jsonBody(t, resp)["usage"].(map[string]any)
	g.Expect(usage).To(gomega.HaveKeyWithValue("date", today))
	g.Expect(usage).To(gomega.HaveKeyWithValue("final", false))
	g.Expect(usage["total_micros"]).To(gomega.BeNumerically(">", 0))

	// The ledger is in the API server, readable with kubectl, and the
	// extension says its usage is proven.
	ledger := &jetwayv1.UsageLedger{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ext.Namespace, Name: domain.UsageLedgerName(id)}, ledger)).To(gomega.Succeed())
	g.Expect(ledger.Spec.OrganizationID).To(gomega.Equal(org))
	cur := &jetwayv1.Extension{}
	g.Eventually(func() string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(ext), cur)
		for _, c := range cur.Status.Conditions {
			if c.Type == jetwayv1.ConditionUsageProven {
				return string(c.Status)
			}
		}
		return ""
	}).Should(gomega.Equal("True"))

	// The organization's summary shows today's figure.
	orgObj := &jetwayv1.Organization{}
	g.Eventually(func() int64 {
		if err := k8s.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(org)}, orgObj); err != nil || orgObj.Status.Usage == nil {
			return 0
		}
		return orgObj.Status.Usage.TodayMicros
	}).WithTimeout(30 * time.Second).Should(gomega.BeNumerically(">", 0))
}

// TestBillingRefusals: every refusal of the billing API names what is
// wrong; an organization never seen is 404, one with no usage gets empty
// days.
func TestBillingRefusals(t *testing.T) {
	today := billing.DateOf(time.Now())
	yesterday := billing.DateOf(time.Now().Add(-24 * time.Hour))
	tomorrow := billing.DateOf(time.Now().Add(24 * time.Hour))
	for _, c := range []struct {
		params map[string]any
		code   int
		error  string
	}{
		{map[string]any{"organization_id": "never-seen", "from": today}, 404, "unknown_organization"},
		{map[string]any{"from": today}, 400, "invalid_organization_id"},
		{map[string]any{"organization_id": "o"}, 400, "invalid_from"},
		{map[string]any{"organization_id": "o", "from": "2026/12/01"}, 400, "invalid_from"},
		{map[string]any{"organization_id": "o", "from": tomorrow}, 400, "invalid_from"},
		{map[string]any{"organization_id": "o", "from": today, "to": yesterday}, 400, "invalid_to"},
		{map[string]any{"organization_id": "o", "from": billing.DateOf(time.Now().Add(-31 * 24 * time.Hour)), "to": today}, 400, "invalid_to"},
	} {
		code, _, body := billingGet(t, c.params)
		if code != c.code || body["error"] != c.error || body["message"] == "" {
			t.Errorf("%v: got %d %v, want %d %s", c.params, code, body, c.code, c.error)
		}
	}

	// An organization Jetway knows, with no usage: days with no items.
	g := newG(t)
	org := uniqueID("idleorg")
	g.Expect(k8s.Create(ctxFor(t), &jetwayv1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName(org)},
		Spec:       jetwayv1.OrganizationSpec{ID: org},
	})).To(gomega.Succeed())
	g.Eventually(func() int {
		code, st, _ := billingGet(t, map[string]any{"organization_id": org, "from": yesterday, "to": today})
		if code != http.StatusOK {
			return code
		}
		g.Expect(st.Days).To(gomega.HaveLen(2))
		for _, d := range st.Days {
			g.Expect(d.Items).To(gomega.BeEmpty())
			g.Expect(d.TotalMicros).To(gomega.BeZero())
		}
		g.Expect(st.Currency).To(gomega.Equal("USD"))
		return code
	}).Should(gomega.Equal(http.StatusOK))
}

// TestPublishedBillingDayNeverChanges: the API server itself refuses any
// edit of a published day, whoever tries.
func TestPublishedBillingDayNeverChanges(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	org := uniqueID("frozen")
	ns := domain.Namespace(org)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(gomega.Succeed())
	day := &jetwayv1.BillingDay{
		ObjectMeta: metav1.ObjectMeta{Name: "2026-12-05", Namespace: ns},
		Spec: jetwayv1.BillingDaySpec{OrganizationID: org, Date: "2026-12-05", Currency: "USD", TotalMicros: 45600,
			ClosedAt: metav1.Now(), Items: []jetwayv1.BillingItem{{ExtensionID: "x", Meter: "machine", Size: "shared-cpu-1x",
				Region: "iad", QuantitySeconds: 86400, UnitPriceMicrosPerHour: 1900, AmountMicros: 45600}}},
	}
	g.Expect(k8s.Create(ctx, day)).To(gomega.Succeed())
	day.Spec.TotalMicros = 1
	err := k8s.Update(ctx, day)
	g.Expect(err).To(gomega.HaveOccurred())
	g.Expect(err.Error()).To(gomega.ContainSubstring("a published billing day never changes"))
}
