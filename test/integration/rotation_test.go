package integration

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// TestCredentialRotationOverlapsAndWaitsForConfirmation: a rotation issues
// a new password while the old one stays valid on every machine, sends Fly
// resource.updated with the new config only once every machine accepts it,
// and, on a plan that leaves revocation to an operator, keeps the old one
// until confirmed. A second rotation asked for meanwhile waits for that
// confirmation. Neither password appears in a log line, an event or a
// condition.
func TestCredentialRotationOverlapsAndWaitsForConfirmation(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	leaks := watchLogs()
	plan := rolloutPlan(t, nil)
	id := uniqueID("rot")
	req := provisionRequest(id, "rot-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	first := passwordIn(t, provision(t, req))
	ext := waitReady(t, id)
	app := appName(id)
	key := client.ObjectKeyFromObject(ext)

	setAnnotation(t, ext, jetwayv1.AnnotationRotateCredentials, "r1")
	second := awaitNewPassword(t, app, first, "a new password is set on the app")
	g.Expect(sim.Secrets(app)[fly.SecretPreviousPassword]).To(gomega.Equal(first), "the old one stays valid beside it")

	announced := awaitReason(t, key, jetwayv1.ReasonAwaitingRevocation)
	revision := ptr.Deref(announced.Status.Credentials.Revision, "")
	g.Expect(revision).NotTo(gomega.BeEmpty())
	g.Expect(machineEnv(id, "JETWAY_CREDENTIALS_REVISION")).To(gomega.HaveEach(revision),
		"every machine runs on the rotated credentials before Fly hears of them")
	updates := rotatedConfigs(id)
	g.Expect(updates).To(gomega.HaveLen(1), "one resource.updated carries the new config")
	g.Expect(updates[0]).To(gomega.ContainSubstring(":" + second + "@"))
	g.Expect(announced.Status.Notification.Credentials.Revision).To(gomega.Equal(revision))

	// Not revoked by itself, and a second rotation waits for the operator.
	setAnnotation(t, ext, jetwayv1.AnnotationRotateCredentials, "r2")
	awaitReason(t, key, jetwayv1.ReasonRotationWaiting)
	g.Consistently(func() map[string]string { return sim.Secrets(app) }, "2s").Should(gomega.And(
		gomega.HaveKeyWithValue(fly.SecretPassword, second), gomega.HaveKeyWithValue(fly.SecretPreviousPassword, first)))

	// Confirming r1 revokes the first password; r2 then goes ahead.
	setAnnotation(t, ext, jetwayv1.AnnotationRevokePreviousCredentials, "r1")
	third := awaitNewPassword(t, app, second, "rotation r2 starts once r1 is confirmed")
	g.Expect(sim.Secrets(app)[fly.SecretPreviousPassword]).To(gomega.Equal(second), "the first password is gone")
	awaitReason(t, key, jetwayv1.ReasonAwaitingRevocation)
	setAnnotation(t, ext, jetwayv1.AnnotationRevokePreviousCredentials, "r2")
	done := awaitReason(t, key, jetwayv1.ReasonRotationComplete)
	g.Expect(sim.Secrets(app)).NotTo(gomega.HaveKey(fly.SecretPreviousPassword))
	g.Expect(machineEnv(id, "JETWAY_CREDENTIALS_REVISION")).To(gomega.HaveEach(ptr.Deref(done.Status.Credentials.Revision, "")),
		"the machines restarted without the revoked password")
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ext.Namespace, Name: domain.CredentialsSecretName(ext.Name)}, secret)).To(gomega.Succeed())
	g.Expect(secret.Data).NotTo(gomega.HaveKey(domain.SecretKeyPreviousPassword))

	// Fly's repeat of the POST answers the config as it now is.
	resp, err := flyAPI.Create(ctx, req)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Expect(passwordIn(t, jsonBody(t, resp))).To(gomega.Equal(third))

	expectNoLeak(t, key, leaks, first, second, third)
}

// TestRotationRevokesAfterOverlapUnlessFlyRefused: a plan that revokes
// after an overlap does so once the overlap after Fly's acknowledgement
// has passed, without an operator; when Fly refuses the new config, the
// old password is kept whatever the plan says, until an operator confirms.
func TestRotationRevokesAfterOverlapUnlessFlyRefused(t *testing.T) {
	g := newG(t)
	plan := rolloutPlan(t, func(s *jetwayv1.ExtensionPlanSpec) {
		s.Connection.Rotation = &jetwayv1.CredentialRotationSpec{
			RevokePrevious: ptr.To(jetwayv1.RevokeAfterOverlap), OverlapSeconds: ptr.To[int32](3)}
	})
	id := uniqueID("rotov")
	req := provisionRequest(id, "rotov-"+id, uniqueID("org"))
	req["plan"] = plan.Name
	provision(t, req)
	ext := waitReady(t, id)
	key := client.ObjectKeyFromObject(ext)
	app := appName(id)

	setAnnotation(t, ext, jetwayv1.AnnotationRotateCredentials, "r1")
	done := awaitReason(t, key, jetwayv1.ReasonRotationComplete)
	acked := done.Status.Notification.Credentials
	g.Expect(acked.Outcome).To(gomega.Equal(jetwayv1.AnnouncementAcknowledged))
	g.Expect(done.Status.Credentials.PreviousRevokedAt.Sub(acked.At.Time)).To(gomega.BeNumerically(">=", 2*time.Second),
		"revoked once the overlap after Fly's acknowledgement passed (whole seconds in status)")
	g.Expect(sim.Secrets(app)).NotTo(gomega.HaveKey(fly.SecretPreviousPassword))

	// Fly answers 400: a refusal, not retried; the old password stays.
	sim.SetWebhookFailure(flysim.WebhookFailure{Status: http.StatusBadRequest, Until: time.Now().Add(time.Minute)})
	defer sim.SetWebhookFailure(flysim.WebhookFailure{}) // before the cleanups, which need Fly
	setAnnotation(t, ext, jetwayv1.AnnotationRotateCredentials, "r2")
	refused := awaitReason(t, key, jetwayv1.ReasonAnnouncementFailed)
	sim.SetWebhookFailure(flysim.WebhookFailure{})
	g.Expect(refused.Status.Notification.Credentials.Outcome).To(gomega.Equal(jetwayv1.AnnouncementRejected))
	g.Consistently(func() map[string]string { return sim.Secrets(app) }, "5s").Should(gomega.HaveKey(fly.SecretPreviousPassword),
		"past the overlap, but Fly never took the new config")
	setAnnotation(t, ext, jetwayv1.AnnotationRevokePreviousCredentials, "r2")
	awaitReason(t, key, jetwayv1.ReasonRotationComplete)
	g.Expect(sim.Secrets(app)).NotTo(gomega.HaveKey(fly.SecretPreviousPassword))
}

// awaitNewPassword waits until the app's password is no longer old, and
// returns it.
func awaitNewPassword(t *testing.T, app, old, why string) string {
	t.Helper()
	var now string
	newG(t).Eventually(func() string {
		now = sim.Secrets(app)[fly.SecretPassword]
		return now
	}, "30s").ShouldNot(gomega.Equal(old), why)
	return now
}

// awaitReason waits until the CredentialsRotated condition has reason and
// returns the Extension then.
func awaitReason(t *testing.T, key client.ObjectKey, reason string) *jetwayv1.Extension {
	t.Helper()
	ext := &jetwayv1.Extension{}
	newG(t).Eventually(func() (string, error) {
		if err := k8s.Get(ctxFor(t), key, ext); err != nil {
			return "", err
		}
		c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionCredentialsRotated)
		if c == nil {
			return "", nil
		}
		return c.Reason + ": " + c.Message, nil
	}, "60s").Should(gomega.HavePrefix(reason + ":"))
	return ext
}

// rotatedConfigs are the connection URLs of the resource.updated webhooks
// that carried a config, for one extension.
func rotatedConfigs(flyID string) []string {
	var out []string
	for _, d := range sim.WebhookDeliveries() {
		config, ok := d.Resource["config"].(map[string]any)
		if d.ResourceID == flyID && !d.Duplicate && d.Action == "resource.updated" && ok {
			url, _ := config["LOGJAM_URL"].(string)
			out = append(out, url)
		}
	}
	return out
}

// passwordIn is the password in a provisioning answer's connection URL.
func passwordIn(t *testing.T, body map[string]any) string {
	t.Helper()
	config, _ := body["config"].(map[string]any)
	url, _ := config["LOGJAM_URL"].(string)
	_, rest, ok := strings.Cut(strings.TrimPrefix(url, "postgres://"), ":")
	password, _, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 || password == "" {
		t.Fatalf("no password in the answer's config: %v", body)
	}
	return password
}

// expectNoLeak fails if any password appears in the manager's log since
// leaks started, in an event about the extension, or in its conditions.
func expectNoLeak(t *testing.T, key client.ObjectKey, leaks *logWatch, passwords ...string) {
	t.Helper()
	logged := leaks.stop()
	var events eventsv1.EventList
	if err := k8s.List(ctxFor(t), &events, client.InNamespace(key.Namespace)); err != nil {
		t.Fatal(err)
	}
	ext := &jetwayv1.Extension{}
	if err := k8s.Get(ctxFor(t), key, ext); err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, e := range events.Items {
		written = append(written, e.Note)
	}
	for _, c := range ext.Status.Conditions {
		written = append(written, c.Message)
	}
	for _, p := range passwords {
		if bytes.Contains(logged, []byte(p)) {
			t.Errorf("a password appears in the manager's log")
		}
		for _, w := range written {
			if strings.Contains(w, p) {
				t.Errorf("a password appears in an event or condition: %q", w)
			}
		}
	}
	if len(logged) == 0 {
		t.Error("no log line was seen at all: the watch is not wired")
	}
}

// logs is where the suite's logger also writes; a test watching for
// leaks records what is written meanwhile.
var logs = &logTee{}

// logTee passes the manager's log to the one watch running, if any.
type logTee struct {
	mu    sync.Mutex
	watch *logWatch
}

func (l *logTee) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watch != nil {
		l.watch.buf.Write(p)
	}
	return len(p), nil
}

// logWatch is the log written between watchLogs and stop.
type logWatch struct{ buf bytes.Buffer }

func watchLogs() *logWatch {
	w := &logWatch{}
	logs.mu.Lock()
	logs.watch = w
	logs.mu.Unlock()
	return w
}

func (w *logWatch) stop() []byte {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	logs.watch = nil
	return w.buf.Bytes()
}
