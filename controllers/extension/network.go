package extension

import (
	"context"
	"fmt"
	"sort"

	"github.com/superfly/fly-go/flaps"
	"sigs.k8s.io/controller-runtime/pkg/log"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/fly"
)

// flycastType is Fly's IP type for a Flycast (private IPv6) address.
const flycastType = "private_v6"

// reconcileNetwork gives the app exactly one Flycast address on its own
// network, so the provider's own tooling reaches the extension privately.
// (The customer-network address in spec.ipAddress is allocated by Fly
// itself and routed to the app named in the provisioning response.)
//
// Fly's IP assignment has no idempotency key, and an assignment whose
// caller died can still land after the next manager made another: the
// address in status (which DNS may already name) is kept, else the oldest,
// and every other Flycast address is released.
func (r *Reconciler) reconcileNetwork(ctx context.Context, ext *jetwayv1.Extension, deps *dependencies) error {
	app := ext.Status.AppName
	var ips []fly.IPAssignment
	if !deps.appIsNew {
		var err error
		if ips, err = r.Fly.ListIPs(ctx, app); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionNetworkReady, reasonFor(err), "Listing IPs of %s failed: %v", app, err)
			return fmt.Errorf("list ips of %s: %w", app, err)
		}
	}
	keep, extra := pickFlycast(ips, ext.Status.FlycastIP)
	for _, ip := range extra {
		if err := r.Fly.ReleaseIP(ctx, app, ip.IP); err != nil {
			extstatus.MarkFalse(ext, jetwayv1.ConditionNetworkReady, reasonFor(err), "Releasing extra Flycast address %s failed: %v", ip.IP, err)
			return fmt.Errorf("release extra flycast ip %s of %s: %w", ip.IP, app, err)
		}
		log.FromContext(ctx).Info("Released an extra Flycast address", "app", app, "ip", ip.IP, "kept", keep.IP)
		r.Recorder.Eventf(ext, nil, "Normal", "IPReleased", "ReleaseIP", "Released extra Flycast address %s; %s is kept", ip.IP, keep.IP)
	}
	if keep != nil {
		ext.Status.FlycastIP = keep.IP
		extstatus.MarkTrue(ext, jetwayv1.ConditionNetworkReady, jetwayv1.ReasonIPAllocated, "Flycast address %s allocated", keep.IP)
		return nil
	}
	ip, err := r.Fly.AssignIP(ctx, app, flaps.AssignIPRequest{Type: flycastType, Network: networkName(app)})
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionNetworkReady, reasonFor(err), "Allocating a Flycast address failed: %v", err)
		return fmt.Errorf("allocate flycast ip for %s: %w", app, err)
	}
	ext.Status.FlycastIP = ip.IP
	r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonIPAllocated, "AssignIP", "Allocated Flycast address %s", ip.IP)
	extstatus.MarkTrue(ext, jetwayv1.ConditionNetworkReady, jetwayv1.ReasonIPAllocated, "Flycast address %s allocated", ip.IP)
	return nil
}

// pickFlycast chooses the Flycast address to keep among ips: the one
// already in status, else the oldest (the same choice on every pass and
// every replica). The rest of the Flycast addresses are extra.
func pickFlycast(ips []fly.IPAssignment, inStatus string) (keep *fly.IPAssignment, extra []fly.IPAssignment) {
	var flycast []fly.IPAssignment
	for _, ip := range ips {
		if ip.IsFlycast() {
			flycast = append(flycast, ip)
		}
	}
	if len(flycast) == 0 {
		return nil, nil
	}
	sort.SliceStable(flycast, func(i, j int) bool {
		if (flycast[i].IP == inStatus) != (flycast[j].IP == inStatus) {
			return flycast[i].IP == inStatus
		}
		if !flycast[i].CreatedAt.Equal(flycast[j].CreatedAt) {
			return flycast[i].CreatedAt.Before(flycast[j].CreatedAt)
		}
		return flycast[i].IP < flycast[j].IP
	})
	return &flycast[0], flycast[1:]
}
