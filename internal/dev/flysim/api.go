package flysim

import (
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"

	"github.com/jetway-dev/jetway/internal/dev/flysim/events"
	"github.com/jetway-dev/jetway/internal/dev/flysim/hooks"
	"github.com/jetway-dev/jetway/internal/dev/flysim/machines"
	"github.com/jetway-dev/jetway/internal/dev/flysim/oauth"
)

// The simulators' types under the names flysim's callers know them by.
type (
	Faults           = machines.Faults
	Stats            = machines.Stats
	MachineInfo      = machines.MachineInfo
	VolumeInfo       = machines.VolumeInfo
	VolumeChange     = machines.VolumeChange
	StateChange      = machines.StateChange
	CheckFailures    = machines.CheckFailures
	MachineRef       = machines.MachineRef
	OAuthOptions     = oauth.Options
	OAuthClient      = oauth.Client
	OAuthUser        = oauth.User
	OAuthMembership  = oauth.Membership
	OAuthStats       = oauth.Stats
	WebhookDelivery  = hooks.Delivery
	WebhookFailure   = hooks.Failure
	EventsStatus     = events.Status
	MachineEventBody = events.Body
)

// EventTypePrefix prefixes the machine's state in ce-type.
const EventTypePrefix = events.TypePrefix

// EventSigningMessage is the message an event's X-Signature is the HMAC
// of; see events.SigningMessage.
func EventSigningMessage(id, typ, source, timeStr string, body []byte) []byte {
	return events.SigningMessage(id, typ, source, timeStr, body)
}

// ValidateEventsURL reports whether raw can be Options.EventsURL: empty
// (no events), or an absolute http or https URL.
func ValidateEventsURL(raw string) error { return events.ValidateURL(raw) }

// DefaultOAuthUsers returns the dev users (see oauth.DefaultUsers).
func DefaultOAuthUsers() []OAuthUser { return oauth.DefaultUsers() }

// SetFaults replaces the faults in force, effective for the next request
// (and the next machine start and event), and restarts the dice from
// f.Seed. It panics if f is invalid (see Validate): that is a bug in the
// caller.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("flysim: invalid faults: " + err.Error())
	}
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.machines.SetFaults(f)
	s.shareFaults()
}

// Faults returns the faults in force, with the seed and hang time actually
// used.
func (s *Server) Faults() Faults { return s.machines.Faults() }

// Stats returns copies of the Machines API's counters since New.
func (s *Server) Stats() Stats { return s.machines.Stats() }

// Requests counts Machines API requests by action since New, rejected ones
// included (see machines.Server.Requests).
func (s *Server) Requests() map[string]int { return s.machines.Requests() }

// AppRequests is Requests for one app's routes (/v1/apps/{app}/...).
func (s *Server) AppRequests(app string) map[string]int { return s.machines.AppRequests(app) }

// SetToken changes the token Fly accepts, as revoking or rotating a Fly
// API token does: requests with the old one get 401 from then on, on the
// control API too.
func (s *Server) SetToken(token string) { s.machines.SetToken(token) }

// Apps returns every app, sorted by name.
func (s *Server) Apps() []flaps.App { return s.machines.Apps() }

// Machines returns app's machines that are not destroyed, in creation
// order. Machines being destroyed are still included. Unknown app: nil.
func (s *Server) Machines(app string) []fly.Machine { return s.machines.Machines(app) }

// AllMachines is Machines across all apps, apps in name order.
func (s *Server) AllMachines() []fly.Machine { return s.machines.AllMachines() }

// AllMachineIDs lists every machine ever created, destroyed ones and those
// of deleted apps included, in creation order (see
// machines.Server.AllMachineIDs).
func (s *Server) AllMachineIDs() []MachineInfo { return s.machines.AllMachineIDs() }

// RunningTime is how long a machine spent started within [from, to), from
// the simulator's uncapped state log rather than the events Fly shows (see
// machines.Server.RunningTime).
func (s *Server) RunningTime(machineID string, from, to time.Time) time.Duration {
	return s.machines.RunningTime(machineID, from, to)
}

// StateHistory is a machine's state log, oldest first (see
// machines.Server.StateHistory).
func (s *Server) StateHistory(machineID string) []StateChange {
	return s.machines.StateHistory(machineID)
}

// AllVolumes lists every volume ever created, destroyed ones and those of
// deleted apps included, with the machine each is bound to (see
// machines.Server.AllVolumes).
func (s *Server) AllVolumes() []VolumeInfo { return s.machines.AllVolumes() }

// VolumeHistory is a volume's size log, oldest first: its size at
// creation, each extend, and its destroy (size 0), by Options.Now, which
// Fly's lists do not keep (see machines.Server.VolumeHistory).
func (s *Server) VolumeHistory(volumeID string) []VolumeChange {
	return s.machines.VolumeHistory(volumeID)
}

// VolumeTime is how long a volume existed at each size (GB) within [from,
// to), from that log (see machines.Server.VolumeTime).
func (s *Server) VolumeTime(volumeID string, from, to time.Time) map[int]time.Duration {
	return s.machines.VolumeTime(volumeID, from, to)
}

// Volumes returns app's volumes that are not destroyed, in creation order.
// Unknown app: nil.
func (s *Server) Volumes(app string) []fly.Volume { return s.machines.Volumes(app) }

// VolumeSnapshots returns a volume's snapshots still within their
// retention (see machines.Server.VolumeSnapshots).
func (s *Server) VolumeSnapshots(volumeID string) []fly.VolumeSnapshot {
	return s.machines.VolumeSnapshots(volumeID)
}

// SetVolumeCapacity fills (available false) or frees a region's volume
// hosts: while full, volume creates there get Fly's 400 "no capacity" and
// machine creates with an existing volume there Fly's 412 (see
// machines.Server.SetVolumeCapacity). Unknown region: an error.
func (s *Server) SetVolumeCapacity(region string, available bool) error {
	return s.machines.SetVolumeCapacity(region, available)
}

// FailImageChecks fails the health checks of every machine whose
// config.image is image, now and from then on, as a bad image does: each
// check past its grace period reports critical (see
// machines.Server.SetCheckFailures). An invalid image reference is an
// error.
func (s *Server) FailImageChecks(image string) error { return s.machines.FailImageChecks(image) }

// FailMachineChecks fails the health checks of one machine, whatever its
// image. A machine that is not in app, or is destroyed, is an error.
func (s *Server) FailMachineChecks(app, id string) error {
	return s.machines.FailMachineChecks(app, id)
}

// ClearCheckFailures lifts every check failure; checks past their grace
// period pass again at once.
func (s *Server) ClearCheckFailures() { s.machines.ClearCheckFailures() }

// SetCheckFailures replaces the check failures in force; the zero value
// clears them. Also at PUT /flysim/v1/check-failures.
func (s *Server) SetCheckFailures(f CheckFailures) error { return s.machines.SetCheckFailures(f) }

// CheckFailures returns the check failures in force.
func (s *Server) CheckFailures() CheckFailures { return s.machines.CheckFailures() }

// IPAssignments returns app's assigned addresses; nil for an unknown app.
func (s *Server) IPAssignments(app string) []flaps.IPAssignment { return s.machines.IPAssignments(app) }

// Secrets returns app's secret values by name; nil for an unknown app.
func (s *Server) Secrets(app string) map[string]string { return s.machines.Secrets(app) }

// DestroyMachineOutOfBand destroys a machine as `fly machine destroy
// --force` would (see machines.Server.DestroyMachineOutOfBand).
func (s *Server) DestroyMachineOutOfBand(app, id string) error {
	return s.machines.DestroyMachineOutOfBand(app, id)
}

// DeleteAppOutOfBand deletes an app as `fly apps destroy` would (see
// machines.Server.DeleteAppOutOfBand).
func (s *Server) DeleteAppOutOfBand(app string) error { return s.machines.DeleteAppOutOfBand(app) }

// WedgeMachine leaves a machine stuck in "starting" (see
// machines.Server.WedgeMachine).
func (s *Server) WedgeMachine(app, id string) error { return s.machines.WedgeMachine(app, id) }

// Traffic simulates a request to app through Fly's proxy (see
// machines.Server.Traffic).
func (s *Server) Traffic(app string) (started string, err error) { return s.machines.Traffic(app) }

// SetEventsURL changes where machine events go and the secret that signs
// them, for events that happen from now on; events already queued go where
// they were going. An empty url stops events; an empty secret sends them
// unsigned.
func (s *Server) SetEventsURL(url, secret string) { s.events.SetURL(url, secret) }

// EventStats counts machine events since New: sent is POSTs the provider
// answered with a 2xx (a duplicated event counts twice), failed is events
// dropped undelivered (retries exhausted, a full queue, or Close).
func (s *Server) EventStats() (sent, failed int) { return s.events.Stats() }

// EventsStatus returns the events configuration and counters.
func (s *Server) EventsStatus() EventsStatus { return s.events.Status() }

// WebhookDeliveries returns every accepted webhook, oldest first, as deep
// copies.
func (s *Server) WebhookDeliveries() []WebhookDelivery { return s.hooks.Deliveries() }

// SetWebhookFailure replaces the webhook failure in force, effective for
// the next delivery; the zero value turns it off. It panics if f is invalid
// (see Validate): that is a bug in the caller.
func (s *Server) SetWebhookFailure(f WebhookFailure) { s.hooks.SetFailure(f) }

// WebhookFailure returns the webhook failure in force, with the deliveries
// it still has to fail; the zero value once it is over.
func (s *Server) WebhookFailure() WebhookFailure { return s.hooks.Failure() }

// WebhookStats counts webhook POSTs since New: accepted (and recorded),
// rejected (401, 400, 413, 415, and 503 when no secret is configured) and
// failed on purpose (see SetWebhookFailure).
func (s *Server) WebhookStats() (accepted, rejected, failedOnPurpose int) { return s.hooks.Stats() }

// AddOAuthClient registers c, replacing any client with the same id (which
// is how a test rotates a secret). It panics if the server was made without
// Options.OAuth or c is invalid: both are bugs in the test.
func (s *Server) AddOAuthClient(c OAuthClient) { s.mustOAuth("AddOAuthClient").AddClient(c) }

// AddOAuthUser adds u to the users who can sign in, replacing any user
// with the same id; tokens already issued to that id then report the new
// details. It panics like AddOAuthClient.
func (s *Server) AddOAuthUser(u OAuthUser) { s.mustOAuth("AddOAuthUser").AddUser(u) }

// OAuthStats returns a copy of the OAuth counters since New (all zero when
// OAuth is off).
func (s *Server) OAuthStats() OAuthStats {
	if s.oauth == nil {
		return OAuthStats{AuthorizeErrors: map[string]int{}, TokenErrors: map[string]int{}}
	}
	return s.oauth.Stats()
}

func (s *Server) mustOAuth(caller string) *oauth.Server {
	if s.oauth == nil {
		panic("flysim: " + caller + " on a server without Options.OAuth")
	}
	return s.oauth
}

// DefaultCheckGracePeriod is how long after a machine starts flysim first
// reports a check passing when the check sets no grace period.
const DefaultCheckGracePeriod = machines.DefaultCheckGracePeriod
