package domain

import jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"

// Settings are the provider-wide choices every part of Jetway must agree on,
// because names and the Fly-facing view are derived from them. The manager
// builds one value from its flags and hands the same value to the gateway,
// the controllers and the dashboard; nobody keeps a copy of its own fields.
type Settings struct {
	// AppNamePrefix starts every Fly app name. It must never change once
	// extensions exist: app names are derived from it, and the orphan
	// sweeper only looks at apps that carry it.
	AppNamePrefix string
	// DNSZone is the zone extension DNS names live in.
	DNSZone string
	// ClaimsNamespace holds the Leases that keep extension names unique
	// (see nameclaim.go).
	ClaimsNamespace string
	// Access binds the manager into each organization namespace it makes
	// (see namespace_access.go).
	Access NamespaceAccess
}

// AppName is the Fly app of the extension with Fly id flyID.
func (s Settings) AppName(flyID string) string { return AppName(s.AppNamePrefix, flyID) }

// DNSName is the host name of the extension named name.
func (s Settings) DNSName(name string) string { return DNSName(name, s.DNSZone) }

// ResourceOf renders ext as Fly sees it (see resource.go).
func (s Settings) ResourceOf(ext *jetwayv1.Extension) Resource {
	return ResourceOf(ext, s.AppNamePrefix, s.DNSZone)
}
