package extension

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/controllers/internal/extstatus"
	"github.com/jetway-dev/jetway/internal/dns/externaldns"
	"github.com/jetway-dev/jetway/internal/domain"
)

// reconcileDNS writes the extension's AAAA record as an external-dns
// DNSEndpoint owned by the Extension. The record points at the
// customer-network address Fly allocated; an extension created without one
// (applied with kubectl) points at its Flycast address instead.
func (r *Reconciler) reconcileDNS(ctx context.Context, ext *jetwayv1.Extension) error {
	address := ext.Spec.IPAddress
	if address == "" {
		address = ext.Status.FlycastIP
	}
	if address == "" {
		extstatus.MarkFalse(ext, jetwayv1.ConditionDNSReady, jetwayv1.ReasonNoAddress, "Waiting for an address for %s", ext.Status.DNSName)
		return nil
	}
	ep := &externaldns.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: domain.DNSEndpointName(ext.Name), Namespace: ext.Namespace}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, ep, func() error {
		if ep.Labels == nil {
			ep.Labels = map[string]string{}
		}
		ep.Labels[jetwayv1.LabelExtension] = ext.Name
		ep.Labels[jetwayv1.LabelManagedBy] = jetwayv1.ManagedByJetway
		ep.Spec.Endpoints = []*externaldns.Endpoint{{
			DNSName:    ext.Status.DNSName,
			RecordType: "AAAA",
			Targets:    []string{address},
			RecordTTL:  r.Settings.DNSTTL,
		}}
		return controllerutil.SetControllerReference(ext, ep, r.Scheme)
	})
	if err != nil {
		extstatus.MarkFalse(ext, jetwayv1.ConditionDNSReady, jetwayv1.ReasonDependencyNotReady, "Writing DNS record failed: %v", err)
		return fmt.Errorf("write dnsendpoint: %w", err)
	}
	if ext.Spec.IPAddress == "" {
		extstatus.MarkTrue(ext, jetwayv1.ConditionDNSReady, jetwayv1.ReasonProviderAddressOnly,
			"%s AAAA %s: %s", ext.Status.DNSName, address, domain.ProviderAddressNote)
		return nil
	}
	extstatus.MarkTrue(ext, jetwayv1.ConditionDNSReady, jetwayv1.ReasonRecordWritten, "%s AAAA %s", ext.Status.DNSName, address)
	return nil
}
