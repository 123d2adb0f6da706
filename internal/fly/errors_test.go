package fly

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/superfly/fly-go/flaps"
)

func flapsErr(status int, body string) error {
	return fmt.Errorf("failed to launch VM: %w", &flaps.FlapsError{
		OriginalError: errors.New("x"), ResponseStatusCode: status, ResponseBody: []byte(body),
	})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"not found", flapsErr(404, `{"error":"app not found"}`), ErrNotFound},
		{"name taken by status", flapsErr(422, `{"error":"Validation failed","status":"name_taken"}`), ErrNameTaken},
		{"name taken by text", flapsErr(422, `{"error":"Name has already been taken"}`), ErrNameTaken},
		{"rate limited", flapsErr(429, `{"error":"rate limit exceeded"}`), ErrRateLimited},
		{"bad token", flapsErr(401, `{"error":"unauthorized"}`), ErrUnauthorized},
		{"quota is capacity, not auth", flapsErr(403, `{"error":"organization is using 2048 MB of memory in dfw which is over the allowed quota"}`), ErrCapacity},
		{"forbidden", flapsErr(403, `{"error":"forbidden"}`), ErrUnauthorized},
		{"lease held is a conflict", flapsErr(409, `{"error":"aborted: machine ID x lease currently held by y@tokens.fly.io"}`), ErrConflict},
		{"could not reserve is capacity", flapsErr(409, `{"error":"aborted: could not reserve resource for machine: insufficient memory available to fulfill request"}`), ErrCapacity},
		{"412 insufficient resources", flapsErr(412, `{"error":"insufficient resources to create new machine with existing volume"}`), ErrCapacity},
		{"insufficient_capacity status", flapsErr(400, `{"error":"no room","status":"insufficient_capacity"}`), ErrCapacity},
		{"408 is ambiguous: unavailable", flapsErr(408, `{"error":"deadline_exceeded"}`), ErrUnavailable},
		{"5xx", flapsErr(503, `upstream down`), ErrUnavailable},
		{"422 invalid", flapsErr(422, `{"error":"invalid region"}`), ErrInvalid},
		{"timeout", context.DeadlineExceeded, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err)
			if !errors.Is(got, tt.want) {
				t.Fatalf("classify = %v, want %v", got, tt.want)
			}
		})
	}
	if err := classify(context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context must stay a cancellation, got %v", err)
	}
}

func TestActionOf(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/apps":                                  "POST /v1/apps",
		"/v1/apps/my-app/machines":                  "POST /v1/apps/:app/machines",
		"/v1/apps/my-app/machines/abc123/lease":     "POST /v1/apps/:app/machines/:id/lease",
		"/v1/apps/my-app/ip_assignments/fdaa::1":    "POST /v1/apps/:app/ip_assignments/:ip",
		"/v1/apps/my-app/secrets/JETWAY_PASSWORD":   "POST /v1/apps/:app/secrets/:name",
		"/v1/apps/my-app/volumes":                   "POST /v1/apps/:app/volumes",
		"/v1/apps/my-app/volumes/vol_abc/snapshots": "POST /v1/apps/:app/volumes/:volume/snapshots",
	} {
		if got := actionOf("POST", in); got != want {
			t.Errorf("actionOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScopeOf(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/apps":                        "org",
		"/v1/apps/a1":                     "app/a1",
		"/v1/apps/a1/machines":            "app/a1",
		"/v1/apps/a1/machines/m1":         "machine/m1",
		"/v1/apps/a1/machines/m1/lease":   "machine/m1",
		"/v1/apps/a1/ip_assignments/fdaa": "app/a1",
	} {
		if got := scopeOf(in); got != want {
			t.Errorf("scopeOf(%q) = %q, want %q", in, got, want)
		}
	}
}
