package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// LabelRetention marks the ConfigMaps that record a deprovisioned
// extension's retained Fly app.
const LabelRetention = "jetway.dev/retention"

// A Retention records what the teardown of an extension with storage kept
// on Fly: the app, emptied of machines, volumes and secrets, and the final
// snapshot of each volume. Fly restores a snapshot only into the app it was
// taken in, and an app's deletion makes its snapshots unreachable, so the
// app is kept until the snapshots expire; this record is how a restarted
// manager, the orphan sweeper and a restore after re-applying the extension
// know about them. It is its own small ConfigMap, named by the Fly id (as
// the usage ledger is), not part of the tombstone: a tombstone goes when
// the id is provisioned again, which is exactly when a restore needs the
// record, and after a TTL that can be shorter than the retention.
type Retention struct {
	ID             string // the extension's Fly id
	Name           string // the extension's Fly name
	OrganizationID string
	App            string
	// DeletionStarted is the deletionTimestamp of the Extension whose
	// teardown wrote the record: a second deletion of a re-applied
	// extension starts a record afresh rather than merging into the first.
	DeletionStarted time.Time
	// Expires is when the last of the snapshots expires; zero while the
	// teardown has not snapshotted every volume yet.
	Expires time.Time
	// Volumes are the app's volumes when the teardown began, each with its
	// final snapshot once taken.
	Volumes []RetainedVolume

	// namespace, object name and resourceVersion of the stored record.
	namespace, object, version string
}

// RetainedVolume is one volume the teardown snapshotted before destroying
// it.
type RetainedVolume struct {
	Role   string `json:"role"`
	Region string `json:"region"`
	// VolumeID is the destroyed volume; Fly lists its snapshots by it.
	VolumeID  string    `json:"volume_id"`
	SizeGB    int       `json:"size_gb"`
	CreatedAt time.Time `json:"volume_created_at"`
	// Mounted says a machine of the extension mounted the volume when the
	// teardown began: it holds that machine's data. An unmounted one is a
	// leftover (a doubled create, a removed region).
	Mounted bool `json:"mounted"`
	// SnapshotAfter is the mark, by Fly's clock, after which a snapshot of
	// the volume is its final one: noted once Fly released the volume,
	// before the snapshot was asked for (controllers/extension/snapshots.go).
	SnapshotAfter time.Time `json:"snapshot_after,omitzero"`
	// SnapshotID is the final snapshot, empty until taken.
	SnapshotID string `json:"snapshot_id,omitempty"`
	// SnapshotExpires is when Fly drops that snapshot.
	SnapshotExpires time.Time `json:"snapshot_expires_at,omitzero"`
}

// Until is when the record stops holding its app: when its last snapshot
// expires. A record the teardown did not finish (no expiry yet) holds it
// MaxSnapshotRetention after the deletion began: no snapshot it could
// still take lives longer. Zero for a record whose times cannot be read.
func (r *Retention) Until() time.Time {
	if r.Expires.IsZero() && !r.DeletionStarted.IsZero() {
		return r.DeletionStarted.Add(MaxSnapshotRetention)
	}
	return r.Expires
}

// Expired reports whether the record no longer holds its app at now. One
// whose times cannot be read never expires: losing it early would delete
// the snapshots with their app.
func (r *Retention) Expired(now time.Time) bool {
	end := r.Until()
	return !end.IsZero() && !now.Before(end)
}

// Lists reports whether the record names volume id.
func (r *Retention) Lists(volumeID string) bool {
	for _, v := range r.Volumes {
		if v.VolumeID == volumeID {
			return true
		}
	}
	return false
}

// MaxSnapshotRetention is the longest Fly keeps a snapshot: 60 days.
const MaxSnapshotRetention = 60 * 24 * time.Hour

// RetentionName is the record's object name for Fly id flyID, in the
// extension's namespace.
func RetentionName(flyID string) string { return join("retained", flyID, 63) }

// NewRetention starts the record of ext's teardown of app.
func NewRetention(ext *jetwayv1.Extension, app string) *Retention {
	r := &Retention{ID: ext.Spec.ID, Name: ext.Spec.Name, OrganizationID: ext.Spec.Organization.ID, App: app,
		namespace: ext.Namespace, object: RetentionName(ext.Spec.ID)}
	if ext.DeletionTimestamp != nil {
		r.DeletionStarted = ext.DeletionTimestamp.UTC()
	}
	return r
}

// WriteRetention stores r: created the first time, updated after (r must
// then come from FindRetention or an earlier write, so that the update is
// conditional on what was read).
func WriteRetention(ctx context.Context, c client.Client, r *Retention) error {
	cm, err := r.configMap()
	if err != nil {
		return err
	}
	if r.version == "" {
		err = c.Create(ctx, cm)
	} else {
		cm.ResourceVersion = r.version
		err = c.Update(ctx, cm)
	}
	if err != nil {
		if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
			return fmt.Errorf("write retention record %s/%s: changed meanwhile, will read it again: %w", r.namespace, r.object, err)
		}
		return fmt.Errorf("write retention record %s/%s: %w", r.namespace, r.object, err)
	}
	r.version = cm.ResourceVersion
	return nil
}

// FindRetention reads the record of Fly id flyID in namespace ("" for
// any), or nil. r reads live: the manager's cache holds only tombstones.
func FindRetention(ctx context.Context, r client.Reader, namespace, flyID string) (*Retention, error) {
	var list corev1.ConfigMapList
	opts := []client.ListOption{client.MatchingLabels{LabelRetention: "true", jetwayv1.LabelFlyIDHash: Hash(flyID)}}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("list retention records: %w", err)
	}
	for i := range list.Items {
		if rec := retentionOf(&list.Items[i]); rec.ID == flyID {
			return rec, nil
		}
	}
	return nil, nil
}

// ListRetentions lists every record, in every namespace.
func ListRetentions(ctx context.Context, r client.Reader) ([]*Retention, error) {
	var list corev1.ConfigMapList
	if err := r.List(ctx, &list, client.MatchingLabels{LabelRetention: "true"}); err != nil {
		return nil, fmt.Errorf("list retention records: %w", err)
	}
	out := make([]*Retention, 0, len(list.Items))
	for i := range list.Items {
		if rec := retentionOf(&list.Items[i]); rec.ID != "" && rec.App != "" {
			out = append(out, rec)
		}
	}
	return out, nil
}

// DeleteRetention removes r, unless it changed since it was read.
func DeleteRetention(ctx context.Context, c client.Client, r *Retention) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: r.object, Namespace: r.namespace}}
	var opts []client.DeleteOption
	if r.version != "" {
		opts = append(opts, client.Preconditions{ResourceVersion: &r.version})
	}
	if err := client.IgnoreNotFound(c.Delete(ctx, cm, opts...)); err != nil {
		return fmt.Errorf("delete retention record %s/%s: %w", r.namespace, r.object, err)
	}
	return nil
}

func (r *Retention) configMap() (*corev1.ConfigMap, error) {
	vols := append([]RetainedVolume(nil), r.Volumes...)
	sort.Slice(vols, func(i, j int) bool {
		if vols[i].Role != vols[j].Role {
			return vols[i].Role == jetwayv1.RolePrimary
		}
		if vols[i].Region != vols[j].Region {
			return vols[i].Region < vols[j].Region
		}
		return vols[i].VolumeID < vols[j].VolumeID
	})
	data, err := json.Marshal(vols)
	if err != nil {
		return nil, fmt.Errorf("encode retained volumes: %w", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      r.object,
			Namespace: r.namespace,
			Labels: map[string]string{
				LabelRetention:          "true",
				jetwayv1.LabelFlyIDHash: Hash(r.ID),
				jetwayv1.LabelManagedBy: jetwayv1.ManagedByJetway,
			},
		},
		Data: map[string]string{
			"id":               r.ID,
			"name":             r.Name,
			"organization_id":  r.OrganizationID,
			"app":              r.App,
			"deletion_started": r.DeletionStarted.UTC().Format(time.RFC3339),
			"volumes":          string(data),
		},
	}
	if !r.Expires.IsZero() {
		cm.Data["expires_at"] = r.Expires.UTC().Format(time.RFC3339)
	}
	return cm, nil
}

// retentionOf reads a record. What cannot be read is left empty: a record
// with unreadable volumes still proves its app is Jetway's and still
// holds the app until its deletion's retention could have ended.
func retentionOf(cm *corev1.ConfigMap) *Retention {
	r := &Retention{
		ID: cm.Data["id"], Name: cm.Data["name"], OrganizationID: cm.Data["organization_id"], App: cm.Data["app"],
		namespace: cm.Namespace, object: cm.Name, version: cm.ResourceVersion,
	}
	r.DeletionStarted, _ = time.Parse(time.RFC3339, cm.Data["deletion_started"])
	r.Expires, _ = time.Parse(time.RFC3339, cm.Data["expires_at"])
	_ = json.Unmarshal([]byte(cm.Data["volumes"]), &r.Volumes)
	return r
}

// Note adds v to the record, or merges it into the entry of the same
// volume: once seen mounted, an entry stays mounted (the teardown destroys
// the machines, after which no list says so any more). It reports whether
// the record changed.
func (r *Retention) Note(v RetainedVolume) bool {
	for i := range r.Volumes {
		e := &r.Volumes[i]
		if e.VolumeID != v.VolumeID {
			continue
		}
		before := *e
		e.Mounted = e.Mounted || v.Mounted
		if e.Role == "" {
			e.Role = v.Role
		}
		if e.Region == "" {
			e.Region = v.Region
		}
		if e.SizeGB == 0 {
			e.SizeGB = v.SizeGB
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = v.CreatedAt
		}
		return *e != before
	}
	r.Volumes = append(r.Volumes, v)
	return true
}

// Mark is volumeID's snapshot mark; zero until noted.
func (r *Retention) Mark(volumeID string) time.Time {
	for _, e := range r.Volumes {
		if e.VolumeID == volumeID {
			return e.SnapshotAfter
		}
	}
	return time.Time{}
}

// SetMark notes volumeID's snapshot mark, unless it has one.
func (r *Retention) SetMark(volumeID string, mark time.Time) {
	for i := range r.Volumes {
		if e := &r.Volumes[i]; e.VolumeID == volumeID && e.SnapshotAfter.IsZero() {
			e.SnapshotAfter = mark.UTC()
		}
	}
}

// SetSnapshot records volumeID's final snapshot. It reports whether the
// record changed.
func (r *Retention) SetSnapshot(volumeID, snapshotID string, expires time.Time) bool {
	changed := false
	for i := range r.Volumes {
		e := &r.Volumes[i]
		if e.VolumeID == volumeID && (e.SnapshotID != snapshotID || !e.SnapshotExpires.Equal(expires)) {
			e.SnapshotID, e.SnapshotExpires, changed = snapshotID, expires.UTC(), true
		}
	}
	return changed
}

// SettleExpiry sets the record's expiry to when its last snapshot expires,
// once the teardown has snapshotted every volume it still found (a volume
// that vanished unsnapshotted does not hold the app). It reports whether
// the record changed.
func (r *Retention) SettleExpiry() bool {
	var last time.Time
	for _, e := range r.Volumes {
		if e.SnapshotID != "" && e.SnapshotExpires.After(last) {
			last = e.SnapshotExpires
		}
	}
	if last.IsZero() || r.Expires.Equal(last) {
		return false
	}
	r.Expires = last
	return true
}

// FinalSnapshot is the final snapshot to restore the machine of role in
// region from: the one of the volume it mounted when the teardown began,
// else of its oldest volume (the one Jetway would have mounted next). ok
// is false when the record has none.
func (r *Retention) FinalSnapshot(role, region string) (RetainedVolume, bool) {
	var best *RetainedVolume
	for i := range r.Volumes {
		v := &r.Volumes[i]
		if v.Role != role || v.Region != region || v.SnapshotID == "" {
			continue
		}
		switch {
		case best == nil,
			v.Mounted && !best.Mounted,
			v.Mounted == best.Mounted && v.CreatedAt.Before(best.CreatedAt):
			best = v
		}
	}
	if best == nil {
		return RetainedVolume{}, false
	}
	return *best, true
}

// Restart makes r the record of a new deletion (the extension was
// re-applied and is deleted again): the earlier deletion's volumes and
// expiry go, the stored object is kept for the update.
func (r *Retention) Restart(ext *jetwayv1.Extension) {
	fresh := NewRetention(ext, r.App)
	fresh.namespace, fresh.object, fresh.version = r.namespace, r.object, r.version
	*r = *fresh
}
