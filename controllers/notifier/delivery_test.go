package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/webhook"
)

// startAPIServer is a real kube-apiserver with Jetway's CRDs: the notifier
// keeps its state by server-side apply, which only the real one does.
func startAPIServer(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds the control plane and sets it")
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = jetwayv1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flyAnswering is Fly's webhook endpoint answering status to everything.
func flyAnswering(t *testing.T, status *atomic.Int32, calls *atomic.Int32) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"error":"nope"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newExtension(t *testing.T, c client.Client, name string) *jetwayv1.Extension {
	t.Helper()
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Finalizers: []string{jetwayv1.NotifyFinalizer}},
		Spec: jetwayv1.ExtensionSpec{ID: name, Name: name, Organization: jetwayv1.OrganizationRef{ID: "org-1"},
			PrimaryRegion: "ams", ReadRegions: []string{}},
	}
	if err := c.Create(context.Background(), ext); err != nil {
		t.Fatal(err)
	}
	return ext
}

func flyNotified(t *testing.T, c client.Client, ext *jetwayv1.Extension) *metav1.Condition {
	t.Helper()
	cur := &jetwayv1.Extension{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(ext), cur); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(cur.Status.Conditions, jetwayv1.ConditionFlyNotified)
}

// TestDeliveryGivesUpAfterItsWindowOnAFakeClock: Fly answering 503 for
// good is retried, backing off to every MaxRetryInterval, for GiveUpAfter
// (72 h), then given up with WebhookAbandoned. The clock is the test's:
// each pass runs when the last one said the next attempt is due.
func TestDeliveryGivesUpAfterItsWindowOnAFakeClock(t *testing.T) {
	c := startAPIServer(t)
	var status, calls atomic.Int32
	status.Store(http.StatusServiceUnavailable)
	url := flyAnswering(t, &status, &calls)
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := start
	r := &Reconciler{Client: c, APIReader: c, Sender: &webhook.Sender{URL: url, Secret: []byte("s")},
		Recorder: events.NewFakeRecorder(1000),
		Settings: Settings{Domain: domain.Settings{AppNamePrefix: "jetway", DNSZone: "z"}, FirstRetry: time.Second,
			MaxRetryInterval: 10 * time.Minute, GiveUpAfter: 72 * time.Hour, FailingAfter: 3},
		Now: func() time.Time { return now }}
	ext := newExtension(t, c, "gives-up") // applied by GitOps: Fly must hear resource.created
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ext)}

	for pass := 0; ; pass++ {
		res, err := r.Reconcile(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if cond := flyNotified(t, c, ext); cond != nil && cond.Reason == jetwayv1.ReasonWebhookAbandoned {
			break
		}
		if res.RequeueAfter <= 0 || pass > 2000 {
			t.Fatalf("pass %d at +%s: requeue %s, condition %+v; want retries until given up", pass, now.Sub(start), res.RequeueAfter, flyNotified(t, c, ext))
		}
		now = now.Add(res.RequeueAfter)
	}
	took := now.Sub(start)
	t.Logf("gave up after %d attempts over %s of fake time", calls.Load(), took)
	if took < 72*time.Hour || took > 72*time.Hour+12*time.Minute {
		t.Fatalf("gave up after %s, want 72 h (and at most one retry interval more)", took)
	}
	// Backing off to every 10 min ± 20 %, 72 h is 360–540 attempts.
	if n := calls.Load(); n < 360 || n > 560 {
		t.Fatalf("%d attempts in 72 h, want about one per 10 min", n)
	}
}

// TestAPermanentRefusalIsNotRetried: a 4xx other than 401, 403, 408, 425
// and 429 ends the notification at once, says so in FlyNotified, and a
// deletion waiting for resource.deleted finishes. A 429 and a 401 (the
// secret out of step while rotated) are retried.
func TestAPermanentRefusalIsNotRetried(t *testing.T) {
	c := startAPIServer(t)
	var status, calls atomic.Int32
	url := flyAnswering(t, &status, &calls)
	r := &Reconciler{Client: c, APIReader: c, Sender: &webhook.Sender{URL: url, Secret: []byte("s")},
		Recorder: events.NewFakeRecorder(100),
		Settings: Settings{Domain: domain.Settings{AppNamePrefix: "jetway", DNSZone: "z"}, FirstRetry: time.Second,
			MaxRetryInterval: time.Minute, GiveUpAfter: 72 * time.Hour, FailingAfter: 3}}
	ctx := context.Background()

	for _, code := range []int{http.StatusTooManyRequests, http.StatusUnauthorized} {
		status.Store(int32(code))
		retried := newExtension(t, c, fmt.Sprintf("retried-%d", code))
		if res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(retried)}); err != nil || res.RequeueAfter <= 0 {
			t.Fatalf("%d: %+v %v; want a retry", code, res, err)
		}
	}

	status.Store(http.StatusBadRequest)
	ext := newExtension(t, c, "refused")
	if err := c.Delete(ctx, ext); err != nil {
		t.Fatal(err)
	}
	before := calls.Load()
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ext)})
	if err != nil || res.RequeueAfter != 0 {
		t.Fatalf("400: %+v %v; want no retry", res, err)
	}
	if n := calls.Load() - before; n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ext), &jetwayv1.Extension{}); err == nil {
		cond := flyNotified(t, c, ext)
		t.Fatalf("the extension is still there after Fly refused resource.deleted (FlyNotified %+v); the deletion must finish", cond)
	}
}
