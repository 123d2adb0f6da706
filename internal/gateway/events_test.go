package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/signing"
)

const eventSecret = "event-secret"

func eventServer(t *testing.T, events EventSettings) (*Server, client.Client) {
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
	s := testServer(t, Config{ExternalURL: "http://gw", Events: events}, c, scheme, eventSecret)
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

// TestSignedMachineEvents: with --machine-events-auth=hmac, events are
// checked as Jetway's own contract signs them.
func TestSignedMachineEvents(t *testing.T) {
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
		{"machine unknown by id, found by the app of ce-source", func() *http.Request {
			return binaryEvent("e3", "io.fly.machine.started", now, map[string]any{"machine_id": "other"}, eventSecret)
		}, 202, true},
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
			s, c := eventServer(t, EventSettings{Auth: EventsAuthHMAC})
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, tt.req())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			ext := &jetwayv1.Extension{}
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "ext"}, ext); err != nil {
				t.Fatal(err)
			}
			if _, poked := ext.Annotations[jetwayv1.AnnotationMachineEvent]; poked != tt.wantPoke {
				t.Fatalf("extension poked = %v, want %v", poked, tt.wantPoke)
			}
		})
	}
}

func TestDuplicateMachineEventIsHarmless(t *testing.T) {
	s, _ := eventServer(t, EventSettings{Auth: EventsAuthHMAC})
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

// TestUnsignedMachineEvents: by default events are taken as Fly sends
// them, unsigned, and only ask for a look.
func TestUnsignedMachineEvents(t *testing.T) {
	s, c := eventServer(t, EventSettings{})
	// Fly's sample: no app_name, no signature.
	req := binaryEvent("e1", "io.fly.machine.stopped", time.Now(), map[string]any{"machine_id": "m1", "status": "stopped"}, "")
	req.Header.Del("X-Signature")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("unsigned event: HTTP %d %s, want 202", rec.Code, rec.Body)
	}
	ext := &jetwayv1.Extension{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "ext"}, ext); err != nil {
		t.Fatal(err)
	}
	if _, poked := ext.Annotations[jetwayv1.AnnotationMachineEvent]; !poked {
		t.Fatal("an unsigned event for a known machine did not ask for a look")
	}
	// A machine of an app Jetway does not know is acknowledged, ignored.
	req = binaryEvent("e2", "io.fly.machine.created", time.Now(), map[string]any{"machine_id": "m-new"}, "")
	req.Header.Set("ce-source", "/apps/someone-else/machines/m-new")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || !bytes.Contains(rec.Body.Bytes(), []byte("unknown machine")) {
		t.Fatalf("event of an unknown app: HTTP %d %s, want 202 ignored", rec.Code, rec.Body)
	}
}

func TestTokenAuthenticatedMachineEvents(t *testing.T) {
	s, _ := eventServer(t, EventSettings{Auth: EventsAuthToken, Token: []byte("events-token")})
	for _, tc := range []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer events-token") }, 202},
		{"query", func(r *http.Request) { r.URL.RawQuery = "token=events-token" }, 202},
		{"wrong", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"none", func(*http.Request) {}, 401},
	} {
		req := binaryEvent("id-"+tc.name, "io.fly.machine.started", time.Now(), map[string]any{"machine_id": "m1"}, "")
		tc.set(req)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
	if _, err := New(Config{ExternalURL: "http://gw", Verifier: s.cfg.Verifier, Events: EventSettings{Auth: EventsAuthToken}}, nil, nil, nil, logr.Discard()); err == nil {
		t.Error("token authentication without a token was accepted")
	}
	if _, err := New(Config{ExternalURL: "http://gw", Verifier: s.cfg.Verifier, Events: EventSettings{Auth: "basic"}}, nil, nil, nil, logr.Discard()); err == nil {
		t.Error("an unknown authentication was accepted")
	}
}

// TestAFloodOfEventsFoldsIntoOnePokePerInterval: the first event of a
// quiet extension pokes at once; the rest within the interval fold into
// one poke at its end, carrying the latest.
func TestAFloodOfEventsFoldsIntoOnePokePerInterval(t *testing.T) {
	var mu sync.Mutex
	var pokes []string
	h := &hintLimiter{interval: 200 * time.Millisecond, poke: func(_ context.Context, _ types.NamespacedName, ev machineEvent) error {
		mu.Lock()
		defer mu.Unlock()
		pokes = append(pokes, ev.Status)
		return nil
	}}
	key := types.NamespacedName{Namespace: "ns", Name: "ext"}
	for i := range 1000 {
		if _, err := h.hint(context.Background(), key, machineEvent{MachineID: "m1", Status: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	other := types.NamespacedName{Namespace: "ns", Name: "other"}
	if folded, _ := h.hint(context.Background(), other, machineEvent{Status: "x"}); folded {
		t.Fatal("another extension's first event was folded into this one's")
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(pokes) != 3 || pokes[0] != "0" || pokes[1] != "x" || pokes[2] != "999" {
		t.Fatalf("pokes %v; want the first event at once, the other extension's, then one trailing poke with the latest (999)", pokes)
	}
}
