package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/signing"
)

const eventSecret = "event-secret"

func eventServer(t *testing.T) (*Server, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := jetwayv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns"},
		Spec:       jetwayv1.ExtensionSpec{ID: "x", Name: "n", PrimaryRegion: "mad"},
		Status:     jetwayv1.ExtensionStatus{AppName: "app-1", Machines: []jetwayv1.MachineStatus{{ID: "m1", Region: "mad", Role: "primary"}}},
	}
	c := withExtensionIndexes(fake.NewClientBuilder().WithScheme(scheme).WithObjects(ext).WithStatusSubresource(ext)).Build()
	s := testServer(t, Config{ExternalURL: "http://gw"}, c, scheme, eventSecret)
	return s, c
}

// binaryEvent builds a binary-mode CloudEvent signed as Fly would.
func binaryEvent(id, typ string, at time.Time, data any, secret string) *http.Request {
	body, _ := json.Marshal(data)
	source, ts := "/apps/app-1/machines/m1", at.UTC().Format(time.RFC3339Nano)
	req := httptest.NewRequest(http.MethodPost, "/flyio/extensions/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", id)
	req.Header.Set("ce-type", typ)
	req.Header.Set("ce-source", source)
	req.Header.Set("ce-time", ts)
	req.Header.Set("X-Signature", signing.Sign([]byte(secret), signing.EventMessage(id, typ, source, ts, body)))
	return req
}

func TestMachineEvents(t *testing.T) {
	now := time.Now()
	started := map[string]any{"machine_id": "m1", "status": "started"}
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantPoke   bool
	}{
		{"signed binary event for a known machine", func() *http.Request {
			return binaryEvent("e1", "io.fly.machine.started", now, started, eventSecret)
		}, 202, true},
		{"machine not in status yet, found by app", func() *http.Request {
			return binaryEvent("e2", "io.fly.machine.created", now, map[string]any{"machine_id": "m-new", "app_name": "app-1"}, eventSecret)
		}, 202, true},
		{"unknown machine is acknowledged and ignored", func() *http.Request {
			return binaryEvent("e3", "io.fly.machine.started", now, map[string]any{"machine_id": "other"}, eventSecret)
		}, 202, false},
		{"not a machine event", func() *http.Request {
			return binaryEvent("e4", "io.fly.app.deployed", now, started, eventSecret)
		}, 202, false},
		{"wrong secret", func() *http.Request {
			return binaryEvent("e5", "io.fly.machine.started", now, started, "nope")
		}, 401, false},
		{"header tampered after signing", func() *http.Request {
			r := binaryEvent("e6", "io.fly.machine.started", now, started, eventSecret)
			r.Header.Set("ce-type", "io.fly.machine.destroyed")
			return r
		}, 401, false},
		{"stale", func() *http.Request {
			return binaryEvent("e7", "io.fly.machine.started", now.Add(-10*time.Minute), started, eventSecret)
		}, 401, false},
		{"no machine_id", func() *http.Request {
			return binaryEvent("e8", "io.fly.machine.started", now, map[string]any{"status": "started"}, eventSecret)
		}, 400, false},
		{"not a CloudEvent", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/flyio/extensions/events", bytes.NewReader([]byte(`{}`)))
		}, 400, false},
		{"structured mode, body signed", func() *http.Request {
			body, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "e9", "type": "io.fly.machine.stopped",
				"source": "/apps/app-1/machines/m1", "time": now.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json",
				"data": map[string]any{"machine_id": "m1", "status": "stopped"}})
			r := httptest.NewRequest(http.MethodPost, "/flyio/extensions/events", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/cloudevents+json")
			r.Header.Set("X-Signature", signing.Sign([]byte(eventSecret), body))
			return r
		}, 202, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := eventServer(t)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, tt.req())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			ext := &jetwayv1.Extension{}
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "ext"}, ext); err != nil {
				t.Fatal(err)
			}
			if _, poked := ext.Annotations[AnnotationMachineEvent]; poked != tt.wantPoke {
				t.Fatalf("extension poked = %v, want %v", poked, tt.wantPoke)
			}
		})
	}
}

func TestDuplicateMachineEventIsHarmless(t *testing.T) {
	s, _ := eventServer(t)
	req := func() *http.Request {
		return binaryEvent("same-id", "io.fly.machine.started", time.Now(), map[string]any{"machine_id": "m1"}, eventSecret)
	}
	for i, want := range []string{"accepted", "duplicate"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req())
		var got map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		if rec.Code != 202 || got["status"] != want {
			t.Fatalf("delivery %d: %d %v, want 202 %s", i+1, rec.Code, got, want)
		}
	}
}
