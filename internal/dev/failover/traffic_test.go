package failover

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/devstack"
)

// gateway answers POST 201 and GET with status.
func gateway(t *testing.T, status int, gets *atomic.Int32) *devstack.ManagerProcess {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			return
		}
		gets.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return &devstack.ManagerProcess{GatewayAddr: strings.TrimPrefix(srv.URL, "http://")}
}

// refused is a gateway whose process is gone.
func refused(t *testing.T) *devstack.ManagerProcess {
	addr, err := devstack.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return &devstack.ManagerProcess{GatewayAddr: addr}
}

func run(t *testing.T, managers ...*devstack.ManagerProcess) TrafficReport {
	tr := &Traffic{Managers: managers, Secret: []byte("s"), Rate: 50, Prefix: "t"}
	tr.Start(context.Background())
	time.Sleep(500 * time.Millisecond)
	return tr.Stop()
}

func TestTrafficResendsWhatAStoppedGatewayRefused(t *testing.T) {
	var gets atomic.Int32
	rep := run(t, gateway(t, http.StatusOK, &gets), refused(t))
	if rep.Answered == 0 || rep.Answered != rep.Sent || rep.Retried == 0 || rep.ServerErrors != 0 || rep.Unanswered != 0 || gets.Load() == 0 {
		t.Fatalf("%+v (%d GETs)", rep, gets.Load())
	}
}

func TestTrafficCountsServerErrors(t *testing.T) {
	var gets atomic.Int32
	rep := run(t, gateway(t, http.StatusServiceUnavailable, &gets))
	if rep.ServerErrors == 0 || int(gets.Load()) != rep.ServerErrors || len(rep.Samples) == 0 {
		t.Fatalf("%+v (%d GETs)", rep, gets.Load())
	}
}

func TestTrafficCountsWhatNoGatewayAnswered(t *testing.T) {
	rep := run(t, refused(t), refused(t))
	if rep.Unanswered == 0 || rep.Answered != 0 {
		t.Fatalf("%+v", rep)
	}
}
