package dashboard

import (
	"context"
	"fmt"
	"sort"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// maxEvents is how many recent events an extension page shows.
const maxEvents = 15

// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=list

// recentEvents returns the newest Kubernetes Events about ext (what the
// controllers did, and Fly's machine events), newest first. They are read
// uncached: the manager need not hold every event of the cluster.
func (h *Handler) recentEvents(ctx context.Context, ext *jetwayv1.Extension) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := h.live.List(ctx, &list, client.InNamespace(ext.Namespace),
		client.MatchingFields{"regarding.uid": string(ext.UID)}); err != nil {
		return nil, fmt.Errorf("list events of %s: %w", ext.Name, err)
	}
	events := list.Items
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]).After(eventTime(&events[j])) })
	if len(events) > maxEvents {
		events = events[:maxEvents]
	}
	return events, nil
}

// eventTime is when an event last happened: a repeated event carries its
// latest occurrence in its series.
func eventTime(e *eventsv1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp.Time
	default:
		return e.CreationTimestamp.Time
	}
}
