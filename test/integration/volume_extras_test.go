package integration

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onsi/gomega"

	"github.com/jetway-dev/jetway/internal/dev/flysim"
)

// TestDoubledVolumeCreateIsRemoved: Fly carries out a volume create whose
// answer is then lost as a 502, which fly-go retries on its own: one call
// makes two volumes, and the machine mounts the second. The extra, left
// unattached, is destroyed once the machine mounts its own; every machine
// ends with exactly one volume.
func TestDoubledVolumeCreateIsRemoved(t *testing.T) {
	g := newG(t)
	id := uniqueID("doubled")
	doubler := &loseFirstVolumeCreate{app: appName(id)}
	withFlyTransport(t, doubler)

	req := provisionRequest(id, "doubled-"+id, uniqueID("org"))
	req["plan"] = storagePlan(t)
	req["read_regions"] = []string{"sea"}
	provision(t, req)
	ext := waitReady(t, id)
	g.Expect(doubler.lost.Load()).To(gomega.BeTrue(), "no volume create's answer was lost: the test proves nothing")

	byName := map[string][]flysim.VolumeInfo{}
	for _, v := range sim.AllVolumes() {
		if v.App == ext.Status.AppName {
			byName[v.Name] = append(byName[v.Name], v)
		}
	}
	g.Expect(byName).To(gomega.HaveKey("data_primary_iad"))
	g.Expect(byName["data_primary_iad"]).To(gomega.HaveLen(2), "the lost answer made a second primary volume")
	g.Eventually(func() map[string][]string {
		live := map[string][]string{}
		for _, v := range sim.Volumes(ext.Status.AppName) {
			if v.State == "created" {
				live[v.Name] = append(live[v.Name], v.ID)
			}
		}
		return live
	}).Should(gomega.And(gomega.HaveLen(2),
		gomega.HaveKeyWithValue("data_primary_iad", gomega.HaveLen(1)),
		gomega.HaveKeyWithValue("data_replica_sea", gomega.HaveLen(1))),
		"each machine is left with one volume")
	for _, m := range liveMachines(id) {
		g.Expect(m.Config.Mounts).To(gomega.HaveLen(1))
		vols := sim.Volumes(ext.Status.AppName)
		g.Expect(vols).To(gomega.ContainElement(gomega.And(
			gomega.HaveField("ID", m.Config.Mounts[0].Volume),
			gomega.HaveField("AttachedMachine", gomega.HaveValue(gomega.Equal(m.ID))))),
			"machine %s keeps the volume it mounts", m.ID)
	}
}

// loseFirstVolumeCreate lets the first volume create for app through to
// Fly and answers it with a 502, as Fly's edge does when the connection
// behind it breaks after the backend acted.
type loseFirstVolumeCreate struct {
	app  string
	lost atomic.Bool
}

func (l *loseFirstVolumeCreate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/apps/"+l.app+"/volumes") ||
		resp.StatusCode != http.StatusOK || !l.lost.CompareAndSwap(false, true) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &http.Response{
		StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"error":"bad gateway: upstream connection reset"}`)),
		Request: req,
	}, nil
}

// withFlyTransport restarts the manager with its Fly client sending
// through rt, and back as it was when the test ends.
func withFlyTransport(t *testing.T, rt http.RoundTripper) {
	t.Helper()
	saved := currentOptions
	currentOptions.Fly.Transport = rt
	restartManager(t)
	t.Cleanup(func() {
		currentOptions = saved
		restartManager(t)
	})
}
