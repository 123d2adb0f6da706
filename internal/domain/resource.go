// The Fly-facing view renders an Extension the way Fly sees it: the body of
// GET /extensions/{id}, and the "resource" of every webhook to Fly, which
// Fly's docs require to be the same.

package domain

import (
	"time"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// Resource is the GET shape, which is also a webhook's "resource". GET never
// carries credentials: they go to Fly in the provisioning answer, and again
// in the one webhook that announces rotated credentials (Config).
type Resource struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	ErrorMessage   string   `json:"error_message,omitempty"`
	FlyAppName     string   `json:"fly_app_name"`
	OrganizationID string   `json:"organization_id"`
	UserID         string   `json:"user_id,omitempty"`
	Plan           string   `json:"plan"`
	PrimaryRegion  string   `json:"primary_region"`
	ReadRegions    []string `json:"read_regions"`
	IPAddress      string   `json:"ip_address,omitempty"`
	// AddressNote says why there is no ip_address: the hostname then
	// names Jetway's own Flycast address (ProviderAddressNote).
	AddressNote string `json:"address_note,omitempty"`
	Hostname    string `json:"hostname"`
	CreatedAt   string `json:"created_at"`
	// Config is set only in a resource.updated announcing rotated
	// credentials: the config as the provisioning answer carries it, with
	// the new password.
	Config map[string]string `json:"config,omitempty"`
}

// ProviderAddressNote explains an extension without a customer-network
// address: one applied with GitOps rather than provisioned by Fly, which
// sends ip_address.
const ProviderAddressNote = "no customer-network ip_address was given, so the hostname names the provider's own Flycast address, which customers' apps cannot reach; provision through Fly, or set spec.ipAddress to the address Fly allocated on the customer's network"

// ResourceOf renders an Extension for Fly. appPrefix and zone are the controllers'
// settings. Until the controller has written a status word, the extension
// is pending.
func ResourceOf(ext *jetwayv1.Extension, appPrefix, zone string) Resource {
	status := ext.Status.Phase
	if status == "" {
		status = jetwayv1.PhasePending
	}
	if !ext.DeletionTimestamp.IsZero() {
		status = jetwayv1.PhaseDeleting
	}
	res := Resource{
		ID:             ext.Spec.ID,
		Name:           ext.Spec.Name,
		Status:         status,
		FlyAppName:     AppName(appPrefix, ext.Spec.ID),
		OrganizationID: ext.Spec.Organization.ID,
		Plan:           ext.Spec.Plan,
		PrimaryRegion:  ext.Spec.PrimaryRegion,
		ReadRegions:    append([]string{}, ext.Spec.ReadRegions...),
		IPAddress:      ext.Spec.IPAddress,
		Hostname:       DNSName(ext.Spec.Name, zone),
		CreatedAt:      ext.CreationTimestamp.UTC().Format(time.RFC3339),
	}
	if ext.Spec.IPAddress == "" {
		res.AddressNote = ProviderAddressNote
	}
	if status == jetwayv1.PhaseError {
		res.ErrorMessage = ext.Status.ErrorMessage
	}
	if ext.Spec.User != nil {
		res.UserID = ext.Spec.User.ID
	}
	return res
}
