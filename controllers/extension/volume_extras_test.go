package extension

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/fly"
)

func TestExtraVolumes(t *testing.T) {
	vol := func(id, name, region, attachedTo string) fly.Volume {
		v := fly.Volume{ID: id, Name: name, Region: region, State: "created", CreatedAt: time.Unix(0, 0)}
		if attachedTo != "" {
			v.AttachedMachine = ptr.To(attachedTo)
		}
		return v
	}
	machines := []jetwayv1.MachineStatus{
		{ID: "m-primary", Role: jetwayv1.RolePrimary, Region: "iad"},
		{ID: "m-sea", Role: jetwayv1.RoleReplica, Region: "sea"},
	}
	primary := jetwayv1.MachineKey{Role: jetwayv1.RolePrimary, Region: "iad"}
	tests := []struct {
		name string
		vols []fly.Volume
		skip map[jetwayv1.MachineKey]bool
		want []string
	}{
		{"a doubled create: the unattached twin goes", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", ""), vol("v2", "data_primary_iad", "iad", "m-primary"),
		}, nil, []string{"v1"}},
		{"a machine not created yet: its volume may be about to be mounted", []fly.Volume{
			vol("v1", "data_replica_ams", "ams", ""), vol("v2", "data_replica_ams", "ams", ""),
		}, nil, nil},
		{"a machine that mounts none keeps its volumes", []fly.Volume{
			vol("v1", "data_replica_sea", "sea", ""),
		}, nil, nil},
		{"a volume some machine mounts is never an extra", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", "m-primary"), vol("v2", "data_primary_iad", "iad", "m-twin"),
		}, nil, nil},
		{"mounted by a machine status does not know: not proof the key's machine mounts its own", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", "m-unknown"), vol("v2", "data_primary_iad", "iad", ""),
		}, nil, nil},
		{"a volume of the same name in another region is another machine's", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", "m-primary"), vol("v2", "data_primary_iad", "ord", ""),
		}, nil, nil},
		{"one on its way out is not touched again", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", "m-primary"), func() fly.Volume {
				v := vol("v2", "data_primary_iad", "iad", "")
				v.State = "pending_destroy"
				return v
			}(),
		}, nil, nil},
		{"a machine under a running restore is the restore's", []fly.Volume{
			vol("v1", "data_primary_iad", "iad", ""), vol("v2", "data_primary_iad", "iad", "m-primary"),
		}, map[jetwayv1.MachineKey]bool{primary: true}, nil},
		{"several extras, of several machines", []fly.Volume{
			vol("v3", "data_replica_sea", "sea", ""), vol("v1", "data_primary_iad", "iad", ""),
			vol("v2", "data_primary_iad", "iad", "m-primary"), vol("v4", "data_replica_sea", "sea", "m-sea"),
			vol("v5", "data_primary_iad", "iad", ""),
		}, nil, []string{"v1", "v3", "v5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range extraVolumes(tc.vols, machines, tc.skip) {
				got = append(got, v.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("extras (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewestSnapshotAfter(t *testing.T) {
	mark := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	snaps := []fly.VolumeSnapshot{
		{ID: "daily", CreatedAt: mark.Add(-time.Hour), Status: "created"},
		{ID: "the-mark", CreatedAt: mark, Status: "created"},
		{ID: "final", CreatedAt: mark.Add(time.Millisecond), Status: "created"},
		{ID: "broken", CreatedAt: mark.Add(time.Minute), Status: "failed"},
	}
	if got := newestAfter(snaps, mark); got == nil || got.ID != "final" {
		t.Errorf("newestAfter = %+v, want the one made after the mark, not the failed one", got)
	}
	// The mark as status keeps it, to the microsecond: the snapshot it was
	// taken from is still not after it.
	if got := newestAfter(snaps[:2], mark.Truncate(time.Microsecond)); got != nil {
		t.Errorf("a snapshot from before the volume was released counted: %+v", got)
	}
}

func TestSnapshotExpires(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		own, volume int
		want        time.Time
	}{
		{own: 7, volume: 5, want: t0.Add(7 * 24 * time.Hour)},
		{own: 0, volume: 3, want: t0.Add(3 * 24 * time.Hour)},
		{own: 0, volume: 0, want: t0.Add(5 * 24 * time.Hour)},
	} {
		s := &fly.VolumeSnapshot{CreatedAt: t0}
		if tc.own > 0 {
			s.RetentionDays = ptr.To(tc.own)
		}
		if got := snapshotExpires(s, tc.volume); !got.Equal(tc.want) {
			t.Errorf("snapshotExpires(own %d, volume %d) = %v, want %v", tc.own, tc.volume, got, tc.want)
		}
	}
}

func TestVolumeRole(t *testing.T) {
	for name, want := range map[string]string{
		"data_primary_iad": jetwayv1.RolePrimary, "data_replica_sea": jetwayv1.RoleReplica, "pgdata": "", "data_other_iad": "",
	} {
		if got := volumeRole(name); got != want {
			t.Errorf("volumeRole(%q) = %q, want %q", name, got, want)
		}
	}
}
