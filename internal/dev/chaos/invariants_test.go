package chaos

import (
	"testing"

	flygo "github.com/superfly/fly-go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// The checker is only worth running if it finds what it claims to find:
// each case breaks one thing in an otherwise converged world.
func TestCheckStateFindsEachViolation(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(o *observation, model []*extension)
		want  string
	}{
		{"converged", func(*observation, []*extension) {}, ""},
		{"app of a deleted extension left", func(o *observation, model []*extension) {
			o.apps[appOf("gone")] = &flyApp{machines: []fly.Machine{machine("m9", "gone", "primary", "iad", defaultImage)}}
		}, invOrphanApps},
		{"twin machine from a retried create", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.machines = append(a.machines, machine("m2", "live", "primary", "iad", defaultImage))
		}, invDuplicates},
		{"replica for a removed read region", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.machines = append(a.machines, machine("m3", "live", "replica", "syd", defaultImage))
		}, invOrphanMach},
		{"second flycast address", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.ips = append(a.ips, fly.IPAssignment{IP: "fdaa:0:1::3"})
		}, invOrphanIPs},
		{"plan change not rolled out", func(_ *observation, model []*extension) {
			model[0].Plan = altPlan
		}, invReady},
		{"machine crashed", func(o *observation, _ []*extension) {
			o.apps[appOf("live")].machines[0].State = "failed"
		}, invReady},
		{"app runs with other credentials than Fly was given", func(o *observation, _ []*extension) {
			o.apps[appOf("live")].secrets[appSecretPassword] = "other"
		}, invReady},
		{"finalizer stuck", func(o *observation, _ []*extension) {
			now := metav1.Now()
			o.exts["live"].DeletionTimestamp = &now
		}, invFinalizers},
		{"volume left by a removed replica", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.volumes = append(a.volumes, volume("vol_2", "data_replica_syd", "syd", ""))
		}, invOrphanVolumes},
		{"twin volume from a retried create", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.volumes = append(a.volumes, volume("vol_3", "data_primary_iad", "iad", ""))
		}, invVolumeDuplicates},
		{"volume bound to a machine the extension does not want", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			a.machines = append(a.machines, machine("m4", "live", "replica", "syd", defaultImage))
			a.volumes = append(a.volumes, volume("vol_4", "data_replica_syd", "syd", "m4"))
		}, invOrphanVolumes},
		{"volume in the app of a deleted extension", func(o *observation, _ []*extension) {
			o.apps[appOf("gone")] = &flyApp{volumes: []fly.Volume{volume("vol_5", "data_primary_iad", "iad", "")}}
		}, invOrphanVolumes},
		{"machine of a plan with storage mounts no volume", func(o *observation, _ []*extension) {
			o.apps[appOf("live")].machines[0].Config.Mounts = nil
		}, invReady},
		{"a volume on its way out is not an orphan", func(o *observation, _ []*extension) {
			a := o.apps[appOf("live")]
			gone := volume("vol_6", "data_replica_syd", "syd", "")
			gone.State = "pending_destroy"
			a.volumes = append(a.volumes, gone)
		}, ""},
		{"accepted DELETE lost", func(o *observation, model []*extension) {
			model[0].Deleted = true
			delete(o.apps, appOf("live"))
		}, invDeletedAlive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, model := convergedWorld()
			tt.spoil(o, model)
			f := checkState(model, o)
			for inv, vs := range checkVolumeState(model, o) {
				f[inv] = append(f[inv], vs...)
			}
			if tt.want == "" {
				if f.total() != 0 {
					t.Fatalf("want no violations, got %v", f)
				}
				return
			}
			if len(f[tt.want]) == 0 {
				t.Fatalf("want a violation of %q, got %v", tt.want, f)
			}
		})
	}
}

const defaultImage = "registry.fly.io/logjam:1.0"

func appOf(id string) string { return domain.AppName(appPrefix, id) }

// convergedWorld is one live extension ("live", primary in iad) exactly as
// it should be.
func convergedWorld() (*observation, []*extension) {
	e := &extension{ID: "live", Primary: "iad", Created: true,
		Config: map[string]string{connectionKey: "postgres://live:s3cret@live.ext.jetway.test:5432/logjam"}}
	k := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "ext-live", Namespace: "fly-org", Generation: 2},
		Spec:       jetwayv1.ExtensionSpec{ID: "live", PrimaryRegion: "iad", Plan: defaultPlanName},
		Status:     jetwayv1.ExtensionStatus{ObservedGeneration: 2},
	}
	meta.SetStatusCondition(&k.Status.Conditions, metav1.Condition{Type: jetwayv1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Succeeded"})
	o := &observation{
		exts:    map[string]*jetwayv1.Extension{"live": k},
		images:  map[string]string{defaultPlanName: defaultImage, altPlan: altImage},
		storage: map[string]bool{defaultPlanName: true, altPlan: true},
		apps: map[string]*flyApp{appOf("live"): {
			machines: []fly.Machine{mountingVolume(machine("m1", "live", "primary", "iad", defaultImage), "vol_1")},
			ips:      []fly.IPAssignment{{IP: "fdaa:0:1::2"}},
			secrets:  map[string]string{appSecretPassword: "s3cret"},
			volumes:  []fly.Volume{volume("vol_1", "data_primary_iad", "iad", "m1")},
		}},
	}
	return o, []*extension{e}
}

func volume(id, name, region, attachedTo string) fly.Volume {
	v := fly.Volume{ID: id, Name: name, Region: region, State: "created", SizeGb: chaosVolumeGB}
	if attachedTo != "" {
		v.AttachedMachine = &attachedTo
	}
	return v
}

func mountingVolume(m fly.Machine, volumeID string) fly.Machine {
	m.Config.Mounts = []flygo.MachineMount{{Volume: volumeID, Path: chaosVolumeMount}}
	return m
}

func machine(id, ext, role, region, image string) fly.Machine {
	return fly.Machine{ID: id, State: flygo.MachineStateStarted, Region: region, Config: &flygo.MachineConfig{
		Image:    image,
		Metadata: map[string]string{fly.MetaExtension: ext, fly.MetaRole: role, fly.MetaRegion: region},
	}}
}
