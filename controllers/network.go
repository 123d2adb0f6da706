package controllers

import (
	"context"
	"fmt"

	"github.com/superfly/fly-go/flaps"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// flycastType is Fly's IP type for a Flycast (private IPv6) address.
const flycastType = "private_v6"

// reconcileNetwork gives the app a Flycast address on its own network, so
// the provider's own tooling reaches the extension privately. (The
// customer-network address in spec.ipAddress is allocated by Fly itself and
// routed to the app named in the provisioning response.)
func (r *ExtensionReconciler) reconcileNetwork(ctx context.Context, ext *jetwayv1.Extension) error {
	app := ext.Status.AppName
	ips, err := r.Fly.ListIPs(ctx, app)
	if err != nil {
		markFalse(ext, jetwayv1.ConditionNetworkReady, reasonFor(err), "Listing IPs of %s failed: %v", app, err)
		return fmt.Errorf("list ips of %s: %w", app, err)
	}
	for _, ip := range ips {
		if ip.IsFlycast() {
			ext.Status.FlycastIP = ip.IP
			markTrue(ext, jetwayv1.ConditionNetworkReady, jetwayv1.ReasonIPAllocated, "Flycast address %s allocated", ip.IP)
			return nil
		}
	}
	ip, err := r.Fly.AssignIP(ctx, app, flaps.AssignIPRequest{Type: flycastType, Network: networkName(app)})
	if err != nil {
		markFalse(ext, jetwayv1.ConditionNetworkReady, reasonFor(err), "Allocating a Flycast address failed: %v", err)
		return fmt.Errorf("allocate flycast ip for %s: %w", app, err)
	}
	ext.Status.FlycastIP = ip.IP
	r.Recorder.Eventf(ext, nil, "Normal", jetwayv1.ReasonIPAllocated, "AssignIP", "Allocated Flycast address %s", ip.IP)
	markTrue(ext, jetwayv1.ConditionNetworkReady, jetwayv1.ReasonIPAllocated, "Flycast address %s allocated", ip.IP)
	return nil
}
