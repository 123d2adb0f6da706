package extension

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/fly"
)

// transientStates are the Fly machine states a machine only passes
// through. Fly's docs call a machine stuck in one for more than a few
// minutes "wedged": it will not get out on its own.
var transientStates = map[string]bool{
	"created": true, "starting": true, "stopping": true, "suspending": true,
	"restarting": true, "replacing": true, "updating": true, "destroying": true,
}

// wedgedSince reports whether m has been in a transient state for longer
// than after. Fly's updated_at moves on any change to the machine, so the
// time since it never overstates how long the state has lasted: a
// machine judged wedged really is.
func wedgedSince(m *fly.Machine, after time.Duration, now time.Time) (time.Duration, bool) {
	if after <= 0 || !transientStates[m.State] {
		return 0, false
	}
	updated, err := time.Parse(time.RFC3339, m.UpdatedAt)
	if err != nil {
		return 0, false
	}
	stuck := now.Sub(updated)
	return stuck, stuck > after
}

// wedgedRecheck is how often a pass looks at a wedged primary again: it
// will not get out on its own, so there is no point asking Fly every poll.
const wedgedRecheck = 30 * time.Second

// wedgedMachine is a primary found wedged, for the condition message.
type wedgedMachine struct {
	id, region, state string
}

// replaceWedged destroys wedged replica machines, taking them out of keep
// and returning their keys for the caller to create fresh ones. A replica
// holds nothing the primary does not, so replacing it is safe. A wedged primary
// is returned instead and left alone: it may hold the customer's data, and
// destroying it is an operator's decision (`fly machine destroy --force`,
// after which Jetway creates a new primary).
func (r *Reconciler) replaceWedged(ctx context.Context, ext *jetwayv1.Extension, keep map[jetwayv1.MachineKey]*fly.Machine) (primaries []wedgedMachine, replaced []jetwayv1.MachineKey, err error) {
	now := time.Now()
	for k, m := range keep {
		stuck, wedged := wedgedSince(m, r.Settings.WedgedAfter, now)
		if !wedged {
			continue
		}
		if k.Role == jetwayv1.RolePrimary {
			primaries = append(primaries, wedgedMachine{id: m.ID, region: k.Region, state: m.State})
			continue
		}
		if err := r.Fly.DestroyMachine(ctx, ext.Status.AppName, m.ID); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, reasonFor(err), "Replacing wedged machine %s in %s failed: %s", m.ID, k.Region, flyMessage(err))
			return nil, nil, fmt.Errorf("destroy wedged machine %s: %w", m.ID, err)
		}
		delete(keep, k)
		replaced = append(replaced, k)
		log.FromContext(ctx).Info("Destroyed wedged replica machine", "machine", m.ID, "region", k.Region, "state", m.State, "stuck", stuck.Round(time.Second))
		r.Recorder.Eventf(ext, domain.MachineRef(m.ID), "Warning", jetwayv1.ReasonMachineWedged, "DestroyMachine",
			"Replica machine %s in %s was %s for %s; destroyed it to create a new one", m.ID, k.Region, m.State, stuck.Round(time.Second))
	}
	return primaries, replaced, nil
}

// markWedgedPrimaries sets MachinesReady=False for wedged primaries, with
// what to do about them, and raises one Warning event when that starts.
func (r *Reconciler) markWedgedPrimaries(ext *jetwayv1.Extension, wedged []wedgedMachine) {
	var names []string
	for _, w := range wedged {
		names = append(names, fmt.Sprintf("%s (%s, %s)", w.id, w.region, w.state))
	}
	message := fmt.Sprintf("Primary machine %s has not settled for over %s: Fly calls this wedged. "+
		"Jetway does not replace a primary, which may hold data; destroy it with `fly machine destroy --force` "+
		"and Jetway creates a new one", strings.Join(names, ", "), r.Settings.WedgedAfter)
	if c := meta.FindStatusCondition(ext.Status.Conditions, jetwayv1.ConditionMachinesReady); c == nil || c.Reason != jetwayv1.ReasonMachineWedged {
		r.Recorder.Eventf(ext, nil, "Warning", jetwayv1.ReasonMachineWedged, "Reconcile", "%s", message)
	}
	extstatus.MarkFalse(ext, jetwayv1.ConditionMachinesReady, jetwayv1.ReasonMachineWedged, "%s", message)
}
