package domain

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// TestRetentionRoundTrip: a record written, read back by its Fly id, updated
// and deleted; a second deletion of the same id starts it afresh.
func TestRetentionRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	c := fake.NewClientBuilder().WithScheme(s).Build()
	deleted := metav1.NewTime(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: "gitops-named", Namespace: "fly-o1", DeletionTimestamp: &deleted},
		Spec:       jetwayv1.ExtensionSpec{ID: "ext-1", Name: "db", Organization: jetwayv1.OrganizationRef{ID: "o1"}},
	}
	rec := NewRetention(ext, "jetway-ext-1")
	created := deleted.Add(-48 * time.Hour)
	if !rec.Note(RetainedVolume{Role: "primary", Region: "iad", VolumeID: "vol_p", SizeGB: 10, CreatedAt: created, Mounted: true}) {
		t.Fatal("noting a new volume changed nothing")
	}
	rec.Note(RetainedVolume{Role: "replica", Region: "sea", VolumeID: "vol_r", SizeGB: 10, CreatedAt: created})
	if rec.Note(RetainedVolume{Role: "primary", Region: "iad", VolumeID: "vol_p", SizeGB: 10, CreatedAt: created}) {
		t.Error("noting a volume again, unmounted, changed the record: it was seen mounted once and stays so")
	}
	if err := WriteRetention(ctx, c, rec); err != nil {
		t.Fatal(err)
	}
	rec.SetSnapshot("vol_p", "vs_p", deleted.Add(7*24*time.Hour))
	last := deleted.Add(8 * 24 * time.Hour)
	if !rec.SetSnapshot("vol_r", "vs_r", last) || rec.SetSnapshot("vol_r", "vs_r", last) {
		t.Fatal("SetSnapshot must report a change once, and only once")
	}
	if !rec.SettleExpiry() || !rec.Expires.Equal(last) || rec.SettleExpiry() {
		t.Fatalf("expiry = %v, want the last snapshot's, %v, set once", rec.Expires, last)
	}
	if err := WriteRetention(ctx, c, rec); err != nil {
		t.Fatal(err)
	}

	got, err := FindRetention(ctx, c, "fly-o1", "ext-1")
	if err != nil || got == nil {
		t.Fatalf("FindRetention = %v, %v", got, err)
	}
	if diff := cmp.Diff(rec, got, cmp.AllowUnexported(Retention{}), cmpopts.IgnoreFields(Retention{}, "version"),
		cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
	if other, _ := FindRetention(ctx, c, "", "ext-2"); other != nil {
		t.Errorf("found a record for an id that has none: %+v", other)
	}
	if v, ok := got.FinalSnapshot("primary", "iad"); !ok || v.SnapshotID != "vs_p" {
		t.Errorf("primary's final snapshot = %+v, %v", v, ok)
	}
	if got.Expired(last.Add(-time.Second)) || !got.Expired(last) {
		t.Error("the record must expire exactly when its last snapshot does")
	}

	// Re-applied and deleted again: the record starts afresh, in place.
	again := metav1.NewTime(deleted.Add(24 * time.Hour))
	ext.DeletionTimestamp = &again
	got.Restart(ext)
	got.Note(RetainedVolume{Role: "primary", Region: "iad", VolumeID: "vol_p2", SizeGB: 10, Mounted: true})
	if err := WriteRetention(ctx, c, got); err != nil {
		t.Fatalf("rewrite after a second deletion: %v", err)
	}
	all, err := ListRetentions(ctx, c)
	if err != nil || len(all) != 1 {
		t.Fatalf("ListRetentions = %d records, %v; want the one", len(all), err)
	}
	if v := all[0].Volumes; len(v) != 1 || v[0].VolumeID != "vol_p2" || !all[0].Expires.IsZero() || !all[0].DeletionStarted.Equal(again.Time) {
		t.Errorf("after the second deletion: %+v", all[0])
	}
	if err := DeleteRetention(ctx, c, all[0]); err != nil {
		t.Fatal(err)
	}
	if all, _ := ListRetentions(ctx, c); len(all) != 0 {
		t.Errorf("record still there after delete: %+v", all)
	}
}

func TestRetentionExpiry(t *testing.T) {
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	unfinished := &Retention{DeletionStarted: start}
	if unfinished.Expired(start.Add(59*24*time.Hour)) || !unfinished.Expired(start.Add(MaxSnapshotRetention)) {
		t.Error("a record without expiry must hold its app for Fly's longest retention after the deletion")
	}
	if unreadable := (&Retention{}); unreadable.Expired(start.Add(10 * 365 * 24 * time.Hour)) {
		t.Error("a record whose times cannot be read must never expire by itself")
	}
}

// TestFinalSnapshotPrefersWhatAMachineMounted: of two volumes of one
// machine (a doubled create), the final snapshot to restore is the mounted
// one's; failing that, the oldest volume's.
func TestFinalSnapshotPrefersWhatAMachineMounted(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	rec := &Retention{Volumes: []RetainedVolume{
		{Role: "primary", Region: "iad", VolumeID: "old", CreatedAt: t0, SnapshotID: "vs_old"},
		{Role: "primary", Region: "iad", VolumeID: "mounted", CreatedAt: t0.Add(time.Hour), Mounted: true, SnapshotID: "vs_mounted"},
		{Role: "replica", Region: "sea", VolumeID: "r2", CreatedAt: t0.Add(time.Hour), SnapshotID: "vs_r2"},
		{Role: "replica", Region: "sea", VolumeID: "r1", CreatedAt: t0, SnapshotID: "vs_r1"},
		{Role: "replica", Region: "ams", VolumeID: "unsnapped", CreatedAt: t0},
	}}
	for _, tc := range []struct{ role, region, want string }{
		{"primary", "iad", "vs_mounted"},
		{"replica", "sea", "vs_r1"},
		{"replica", "ams", ""},
	} {
		v, ok := rec.FinalSnapshot(tc.role, tc.region)
		if v.SnapshotID != tc.want || ok != (tc.want != "") {
			t.Errorf("FinalSnapshot(%s, %s) = %q, %v; want %q", tc.role, tc.region, v.SnapshotID, ok, tc.want)
		}
	}
}
