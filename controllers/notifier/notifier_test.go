package notifier

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/webhook"
)

func TestNotifierDesiredNotice(t *testing.T) {
	r := &Reconciler{Settings: Settings{Domain: domain.Settings{AppNamePrefix: "jetway", DNSZone: "z"}}}
	ext := func(origin, phase string, ack *jetwayv1.Notification, deleting bool) *jetwayv1.Extension {
		e := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{ID: "x", Name: "n", PrimaryRegion: "mad"}}
		if origin != "" {
			e.Annotations = map[string]string{jetwayv1.AnnotationOrigin: origin}
		}
		e.Status.Phase = phase
		if ack != nil {
			e.Status.Notification = &jetwayv1.NotificationStatus{Acknowledged: ack}
		}
		if deleting {
			now := metav1.Now()
			e.DeletionTimestamp = &now
		}
		return e
	}
	digestOf := func(e *jetwayv1.Extension) string {
		return webhook.Digest(webhook.ActionUpdated, domain.ResourceOf(e, "jetway", "z"))
	}
	ready := ext("", "ready", nil, false)
	acked := &jetwayv1.Notification{Action: webhook.ActionCreated, Digest: digestOf(ready)}
	// rotated asks for the config of credentials revision "r2" to be
	// announced; answered has Fly's answer to it.
	rotated := func(ack *jetwayv1.Notification, answered bool) *jetwayv1.Extension {
		e := ext("", "ready", ack, false)
		e.Status.Credentials = &jetwayv1.CredentialsStatus{Announce: ptr.To("r2")}
		if answered {
			e.Status.Notification.Credentials = &jetwayv1.CredentialsAnnouncement{Revision: "r2", Outcome: jetwayv1.AnnouncementAcknowledged}
		}
		return e
	}
	announcedAck := &jetwayv1.Notification{Action: webhook.ActionUpdated, CredentialsRevision: ptr.To("r2"),
		Digest: webhook.CredentialsDigest(webhook.ActionUpdated, domain.ResourceOf(ready, "jetway", "z"), "r2")}
	tests := []struct {
		name         string
		ext          *jetwayv1.Extension
		wantAction   string
		wantNeeded   bool
		wantRevision string
	}{
		{"rotated credentials to announce", rotated(acked, false), webhook.ActionUpdated, true, "r2"},
		{"rotated credentials Fly answered, nothing else new", rotated(announcedAck, true), webhook.ActionUpdated, false, ""},
		{"rotated credentials answered, then the status word changed", func() *jetwayv1.Extension {
			e := rotated(announcedAck, true)
			e.Status.Phase = "error"
			return e
		}(), webhook.ActionUpdated, true, ""},
		{"applied with kubectl: Fly must hear it was created", ext("", "pending", nil, false), webhook.ActionCreated, true, ""},
		{"created by Fly, still pending: Fly knows", ext(jetwayv1.OriginFly, "pending", nil, false), webhook.ActionUpdated, false, ""},
		{"created by Fly, now ready: updated", ext(jetwayv1.OriginFly, "ready", nil, false), webhook.ActionUpdated, true, ""},
		{"nothing changed since the ack", ext("", "ready", acked, false), webhook.ActionUpdated, false, ""},
		{"status word changed since the ack", ext("", "error", acked, false), webhook.ActionUpdated, true, ""},
		{"deleted", ext("", "deleting", acked, true), webhook.ActionDeleted, true, ""},
		{"deletion already acknowledged", ext("", "deleting", &jetwayv1.Notification{Action: webhook.ActionDeleted}, true), webhook.ActionDeleted, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := domain.ResourceOf(tt.ext, "jetway", "z")
			want, needed := r.desiredNotice(tt.ext, res)
			if needed != tt.wantNeeded || (needed && (want.action != tt.wantAction || want.credentialsRevision != tt.wantRevision)) {
				t.Fatalf("got %+v needed=%v, want %s (credentials %q) needed=%v", want, needed, tt.wantAction, tt.wantRevision, tt.wantNeeded)
			}
		})
	}
}

func TestNotifierBackoff(t *testing.T) {
	r := &Reconciler{Settings: Settings{FirstRetry: time.Second, MaxRetryInterval: time.Minute}}
	for attempts, want := range map[int32]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 20: time.Minute} {
		for range 20 {
			got := r.backoff(attempts, nil)
			if got < want*4/5 || got > want*6/5 {
				t.Fatalf("attempt %d: wait %s, want %s ±20%%", attempts, got, want)
			}
		}
	}
	if got := r.backoff(1, &webhook.Error{Status: 429, RetryAfter: 30 * time.Second}); got != 30*time.Second {
		t.Fatalf("Retry-After not honoured: %s", got)
	}
}

func TestDigestNoticesWhatFlyShows(t *testing.T) {
	base := domain.Resource{ID: "x", Name: "n", Status: "ready", Plan: "p", PrimaryRegion: "mad", ReadRegions: []string{"syd"}}
	d := webhook.Digest(webhook.ActionUpdated, base)
	changed := base
	changed.Status = "sleeping"
	if webhook.Digest(webhook.ActionUpdated, changed) == d {
		t.Error("a new status word must change the digest")
	}
	changed = base
	changed.ReadRegions = []string{"syd", "scl"}
	if webhook.Digest(webhook.ActionUpdated, changed) == d {
		t.Error("new regions must change the digest")
	}
	same := base
	same.CreatedAt = "2030-01-01T00:00:00Z"
	if webhook.Digest(webhook.ActionUpdated, same) != d {
		t.Error("fields Fly is not told about must not change the digest")
	}
}
