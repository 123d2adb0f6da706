package extension

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestFinalTargets: "final" restores every machine the extension has now
// from its own final snapshot, at least as big as the plan asks, and says
// why when there is nothing to restore.
func TestFinalTargets(t *testing.T) {
	now := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	ext := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{PrimaryRegion: "iad", ReadRegions: []string{"sea", "ams"}}}
	ext.Status.AppName = "jetway-x"
	storage := &jetwayv1.StorageSpec{SizeGB: 10, SnapshotRetentionDays: ptr.To[int32](5)}
	rec := &domain.Retention{Expires: now.Add(time.Hour), Volumes: []domain.RetainedVolume{
		{Role: "primary", Region: "iad", VolumeID: "vp", SizeGB: 20, Mounted: true, SnapshotID: "vs_p"},
		{Role: "replica", Region: "sea", VolumeID: "vr", SizeGB: 10, Mounted: true, SnapshotID: "vs_r"},
		{Role: "replica", Region: "lhr", VolumeID: "gone", SizeGB: 10, Mounted: true, SnapshotID: "vs_lhr"},
	}}
	got, refusal := finalTargets(ext, storage, rec, now)
	if refusal != nil {
		t.Fatalf("refused: %v", refusal)
	}
	want := []jetwayv1.RestoreVolume{
		{Role: "primary", Region: "iad", SnapshotID: "vs_p", SizeGB: 20},
		{Role: "replica", Region: "sea", SnapshotID: "vs_r", SizeGB: 10},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}

	for name, rec := range map[string]*domain.Retention{
		"no record":       nil,
		"expired":         {Expires: now, Volumes: rec.Volumes},
		"no such machine": {Expires: now.Add(time.Hour), Volumes: rec.Volumes[2:]},
	} {
		if _, refusal := finalTargets(ext, storage, rec, now); refusal == nil || refusal.reason != jetwayv1.ReasonSnapshotNotFound {
			t.Errorf("%s: refusal = %v, want %s", name, refusal, jetwayv1.ReasonSnapshotNotFound)
		}
	}
}

func TestSnapshotIDPattern(t *testing.T) {
	for id, ok := range map[string]bool{
		"vs_zQpa3DVD0nAI35k7J72DgQB": true, "final": true, "": false, "vs 1": false, "../x": false, "vs_\n": false,
	} {
		if got := snapshotIDPattern.MatchString(id); got != ok {
			t.Errorf("snapshotIDPattern(%q) = %v, want %v", id, got, ok)
		}
	}
}
