package extension

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// Credential rotation (see api/v1alpha1/credentials_types.go for the steps
// and docs/credentials.md for the operator's side). Each pass derives where
// a rotation is from the credentials Secret (what was issued and whether
// the previous password is still kept), status.credentials (what the Fly
// app and the machines were given) and status.notification.credentials
// (what Fly answered), so a pass that dies anywhere is taken up by the
// next. A pass with no rotation asked for or under way reads nothing.

// envCredentialsRevision tells machines which credentials they run with;
// a new revision changes their config, so they restart onto the app's
// secrets. Only on extensions that were rotated: it would restart every
// machine otherwise.
const envCredentialsRevision = "JETWAY_CREDENTIALS_REVISION"

// rotationState is what reconcileRotation found, for advanceRotation after
// the machines were reconciled.
type rotationState struct {
	creds domain.Credentials
	// waiting names the rotation asked for that waits for the last one to
	// finish; "" when none waits.
	waiting string
}

// reconcileRotation carries out the Secret and app-secret steps of a
// rotation: it issues the new credentials a new rotation asks for, revokes
// the previous once that is due, and sets the Fly app's secrets to match.
// It returns how long until an overlap window ends, when one is running.
func (r *Reconciler) reconcileRotation(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) (time.Duration, error) {
	asked := strings.TrimSpace(ext.Annotations[jetwayv1.AnnotationRotateCredentials])
	st := ext.Status.Credentials
	if st == nil && asked == "" {
		return 0, nil
	}
	if st != nil && (asked == "" || asked == ptr.Deref(st.Rotation, "")) && rotationComplete(ext) {
		return 0, nil
	}
	key := client.ObjectKey{Namespace: ext.Namespace, Name: credentialsSecretName(ext)}
	creds, err := domain.ReadCredentials(ctx, r.APIReader, key)
	if apierrors.IsNotFound(err) {
		return 0, nil // a new extension: its first full check makes them
	}
	if err != nil {
		return 0, err
	}
	state := &rotationState{}
	now := time.Now()
	if asked != "" && asked != creds.Rotation {
		if creds.Previous != "" {
			state.waiting = asked
		} else {
			if creds, err = domain.RotateCredentials(ctx, r.Client, r.APIReader, key, asked, now); err != nil {
				return 0, err
			}
			log.FromContext(ctx).Info("Issued new credentials", "rotation", asked)
			r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonRollingCredentials, "RotateCredentials",
				"Issued new credentials for rotation %s; the previous stay valid until revoked", asked)
		}
	}
	if creds.Rotation == "" {
		// A Secret that carries no rotation (made again by hand after
		// one): nothing to carry on.
		return 0, nil
	}
	state.creds = creds
	deps.rotation = state
	if st == nil || ptr.Deref(st.Rotation, "") != creds.Rotation {
		// A new rotation starts afresh; what the app holds stays known.
		next := &jetwayv1.CredentialsStatus{Rotation: ptr.To(creds.Rotation)}
		if st != nil {
			next.Revision = st.Revision
		}
		ext.Status.Credentials = next
	}
	wait, err := r.revokeWhenDue(ctx, ext, deps.plan, state, key, now)
	if err != nil {
		return 0, err
	}
	// From the Secret, not the cached status, which may predate the last
	// pass's write.
	ext.Status.Credentials.RotatedAt = timeOrNil(state.creds.RotatedAt)
	ext.Status.Credentials.PreviousRevokedAt = timeOrNil(state.creds.PreviousRevokedAt)
	return wait, r.setRotatedSecrets(ctx, ext, state.creds)
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t}
}

// flyAnswer is what Fly answered the announcement of the rotation's new
// config; nil until it has.
func flyAnswer(ext *jetwayv1.Extension) *jetwayv1.CredentialsAnnouncement {
	st, n := ext.Status.Credentials, ext.Status.Notification
	if st == nil || st.Announce == nil || n == nil || n.Credentials == nil || n.Credentials.Revision != *st.Announce {
		return nil
	}
	return n.Credentials
}

// answeredAt is when Fly answered; zero if status does not say.
func answeredAt(answer *jetwayv1.CredentialsAnnouncement) time.Time {
	if answer.At == nil {
		return time.Time{}
	}
	return answer.At.Time
}

// revokeWhenDue revokes the previous password once Fly has answered the
// new config and an operator confirmed, or the plan's overlap after Fly's
// acknowledgement has passed. Before Fly answers nothing is revoked,
// confirmation or not: the customer's app would be left with a password
// that no longer works and no new one. It returns how long until the
// overlap ends, while it runs.
func (r *Reconciler) revokeWhenDue(ctx context.Context, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan,
	state *rotationState, key client.ObjectKey, now time.Time) (time.Duration, error) {
	answer := flyAnswer(ext)
	if state.creds.Previous == "" || answer == nil {
		return 0, nil
	}
	confirmed := strings.TrimSpace(ext.Annotations[jetwayv1.AnnotationRevokePreviousCredentials]) == state.creds.Rotation
	if !confirmed {
		auto, overlap := plan.Spec.Connection.Rotation.RevokesAfterOverlap()
		if !auto || answer.Outcome != jetwayv1.AnnouncementAcknowledged {
			return 0, nil
		}
		if left := answeredAt(answer).Add(time.Duration(overlap) * time.Second).Sub(now); left > 0 {
			return left, nil
		}
	}
	creds, err := domain.RevokePreviousCredentials(ctx, r.Client, r.APIReader, key, now)
	if err != nil {
		return 0, err
	}
	state.creds = creds
	why := "the plan's overlap window ended"
	if confirmed {
		why = "an operator confirmed"
	}
	log.FromContext(ctx).Info("Revoked the previous credentials", "rotation", creds.Rotation, "why", why)
	r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonRevokingPrevious, "RevokeCredentials",
		"Revoked the credentials replaced by rotation %s: %s", creds.Rotation, why)
	return 0, nil
}

// setRotatedSecrets sets the Fly app's credential secrets to what the
// Secret holds when its revision moved: the new and the previous password
// after a rotation, and the previous unset after a revocation.
func (r *Reconciler) setRotatedSecrets(ctx context.Context, ext *jetwayv1.Extension, creds domain.Credentials) error {
	st := ext.Status.Credentials
	if creds.Revision == "" || creds.Revision == ptr.Deref(st.Revision, "") {
		return nil
	}
	app := ext.Status.AppName
	if err := r.Fly.SetSecrets(ctx, app, credentialSecrets(creds)); err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionAppReady, reasonFor(err), "Setting rotated credentials on Fly app %s failed: %v", app, err)
		return fmt.Errorf("set rotated credentials of %s: %w", app, err)
	}
	if creds.Previous == "" {
		if err := r.Fly.UnsetSecrets(ctx, app, fly.SecretPreviousPassword); err != nil {
			return fmt.Errorf("unset the previous password of %s: %w", app, err)
		}
	}
	st.Revision = ptr.To(creds.Revision)
	return nil
}

// advanceRotation runs after the machines were reconciled: once every
// machine runs on the rotation's credentials it asks the notifier to tell
// Fly, and it says in CredentialsRotated where the rotation is.
func advanceRotation(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, state *rotationState) {
	st := ext.Status.Credentials
	if state == nil || st == nil {
		return
	}
	creds := state.creds
	rolled := meta.IsStatusConditionTrue(ext.Status.Conditions, jetwayv1.ConditionRolledOut) && ptr.Deref(st.Revision, "") == creds.Revision
	if creds.Previous != "" && rolled && ptr.Deref(st.Announce, "") != creds.Revision {
		st.Announce = ptr.To(creds.Revision)
	}
	status, reason, msg := rotationCondition(ext, plan, creds, rolled)
	if state.waiting != "" {
		status, reason = metav1.ConditionFalse, jetwayv1.ReasonRotationWaiting
		msg = fmt.Sprintf("Rotation %s waits until the credentials replaced by rotation %s are revoked (confirm with `jetway rotate --revoke` or annotation %s=%s); that rotation: %s",
			state.waiting, creds.Rotation, jetwayv1.AnnotationRevokePreviousCredentials, creds.Rotation, msg)
	}
	extstatus.SetCondition(ext, jetwayv1.ConditionCredentialsRotated, status, reason, msg)
}

// rotationCondition words where the rotation is.
func rotationCondition(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, creds domain.Credentials, rolled bool) (metav1.ConditionStatus, string, string) {
	confirm := fmt.Sprintf("confirm with `jetway rotate --revoke %s -n %s` (annotation %s=%s)",
		ext.Name, ext.Namespace, jetwayv1.AnnotationRevokePreviousCredentials, creds.Rotation)
	if creds.Previous == "" {
		if !rolled {
			return metav1.ConditionFalse, jetwayv1.ReasonRevokingPrevious,
				fmt.Sprintf("The credentials replaced by rotation %s were revoked; the machines are restarting without them", creds.Rotation)
		}
		return metav1.ConditionTrue, jetwayv1.ReasonRotationComplete,
			fmt.Sprintf("Only the credentials issued by rotation %s at %s are valid", creds.Rotation, creds.RotatedAt.UTC().Format(time.RFC3339))
	}
	if !rolled {
		return metav1.ConditionFalse, jetwayv1.ReasonRollingCredentials,
			fmt.Sprintf("Rotation %s issued new credentials; the machines are restarting onto them and accept the new and the previous", creds.Rotation)
	}
	answer := flyAnswer(ext)
	switch {
	case answer == nil:
		return metav1.ConditionFalse, jetwayv1.ReasonAnnouncingCredentials,
			"Every machine accepts the new and the previous credentials; sending Fly resource.updated with the new config"
	case answer.Outcome != jetwayv1.AnnouncementAcknowledged:
		return metav1.ConditionFalse, jetwayv1.ReasonAnnouncementFailed,
			fmt.Sprintf("Fly did not acknowledge the new config (%s at %s; see FlyNotified); the previous credentials stay valid until an operator makes sure the customer's app has the new ones and confirms: %s",
				answer.Outcome, answeredAt(answer).UTC().Format(time.RFC3339), confirm)
	}
	if auto, overlap := plan.Spec.Connection.Rotation.RevokesAfterOverlap(); auto {
		return metav1.ConditionFalse, jetwayv1.ReasonAwaitingRevocation,
			fmt.Sprintf("Fly acknowledged the new config at %s; the previous credentials stop working at %s, or sooner if an operator confirms: %s",
				answeredAt(answer).UTC().Format(time.RFC3339), answeredAt(answer).Add(time.Duration(overlap)*time.Second).UTC().Format(time.RFC3339), confirm)
	}
	return metav1.ConditionFalse, jetwayv1.ReasonAwaitingRevocation,
		fmt.Sprintf("Fly acknowledged the new config at %s; the previous credentials stay valid until an operator makes sure the customer's app has the new ones and confirms: %s",
			answeredAt(answer).UTC().Format(time.RFC3339), confirm)
}

// rotationComplete reports whether the last rotation is finished: nothing
// left to do until another is asked for.
func rotationComplete(ext *jetwayv1.Extension) bool {
	c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionCredentialsRotated)
	return c != nil && c.Reason == jetwayv1.ReasonRotationComplete
}

// credentialsEnv gives machines of a rotated extension the revision of
// their credentials.
func credentialsEnv(ext *jetwayv1.Extension, env map[string]string) {
	if st := ext.Status.Credentials; st != nil && st.Revision != nil {
		env[envCredentialsRevision] = *st.Revision
	}
}
