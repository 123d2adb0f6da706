package flysim

import (
	"net/http"
	"testing"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

// The volume capacity switch over the control API, as a chaos script uses
// it, and what fly-go then sees.
func TestVolumeCapacityControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.createApp("app")
	path := "/flysim/v1/regions/ams/volume-capacity"

	if code, _ := rawDo(t, e, "PUT", path, `{"available":false}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("PUT without a token = %d, want 401", code)
	}
	code, body := rawDo(t, e, "PUT", path, `{"available":false}`, testToken)
	if want := `{"region":"ams","available":false}`; code != http.StatusOK || string(body) != want {
		t.Fatalf("PUT = %d %s, want 200 %s", code, body, want)
	}
	if code, body := rawDo(t, e, "GET", path, "", testToken); code != http.StatusOK || string(body) != `{"region":"ams","available":false}` {
		t.Fatalf("GET = %d %s", code, body)
	}
	size := 1
	_, err := e.c.CreateVolume(e.ctx, "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: &size})
	if code := flysimtest.HTTPStatus(err); code != http.StatusBadRequest {
		t.Fatalf("CreateVolume in a full region: %v, want 400", err)
	}
	if got := e.sim.Stats().Injected["capacity"]; got != 1 {
		t.Fatalf("capacity faults counted %d, want 1", got)
	}

	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", path, `{}`, http.StatusBadRequest},
		{"PUT", path, ``, http.StatusBadRequest},
		{"PUT", "/flysim/v1/regions/xyz/volume-capacity", `{"available":true}`, http.StatusNotFound},
		{"GET", "/flysim/v1/regions/xyz/volume-capacity", ``, http.StatusNotFound},
		{"POST", path, `{"available":true}`, http.StatusMethodNotAllowed},
	} {
		if code, body := rawDo(t, e, tc.method, tc.path, tc.body, testToken); code != tc.want {
			t.Errorf("%s %s %s = %d %s, want %d", tc.method, tc.path, tc.body, code, body, tc.want)
		}
	}

	if err := e.sim.SetVolumeCapacity("ams", true); err != nil {
		t.Fatal(err)
	}
	v, err := e.c.CreateVolume(e.ctx, "app", fly.CreateVolumeRequest{Name: "data", Region: "ams", SizeGb: &size})
	if err != nil {
		t.Fatalf("CreateVolume once capacity is back: %v", err)
	}
	if vols := e.sim.Volumes("app"); len(vols) != 1 || vols[0].ID != v.ID {
		t.Fatalf("Volumes = %+v", vols)
	}
	if all := e.sim.AllVolumes(); len(all) != 1 || all[0].ID != v.ID || all[0].State != "created" {
		t.Fatalf("AllVolumes = %+v", all)
	}
}
