package machines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// Conformance: flysim's JSON must be what fly-go v0.2.2 reads (fly-go wins,
// DESIGN.md) and, where fly-go has no opinion, what Fly's 2024 Machines API
// spec describes. Both checks read the raw bytes flysim sends, not what
// fly-go makes of them, since fly-go silently drops what it does not know.

// swaggerPath is a copy of the 2024 snapshot of Fly's Machines API spec from
// the project's seed documents (shared/spec), kept here so the test needs
// nothing outside the repository.
const swaggerPath = "testdata/fly-machines-api-2024.swagger.json"

// machineWire is a Machine as flysim sends it: fly-go v0.2.2's type plus
// the fields it does not model. Every extra must be in the spec or in a
// later fly-go.
type machineWire struct {
	fly.Machine
	Events   []eventWire `json:"events"`   // shadows fly.Machine.Events
	Cordoned bool        `json:"cordoned"` // fly.Machine.Cordoned in later fly-go
}

type eventWire struct {
	ID string `json:"id"` // MachineEvent.id in the spec
	fly.MachineEvent
}

// leaseWire is a lease answer: fly-go's type plus the description the spec's
// Lease has.
type leaseWire struct {
	fly.MachineLease
	Data *struct {
		fly.MachineLeaseData
		Description string `json:"description"`
	} `json:"data"`
}

// volumeWire is a Volume as flysim sends it: fly-go v0.2.2's type plus the
// spec's fstype, which fly-go does not model.
type volumeWire struct {
	fly.Volume
	FSType string `json:"fstype"` // Volume.fstype in the spec
}

// extendWire is flaps.ExtendVolumeResponse with the volume as flysim sends
// it.
type extendWire struct {
	Volume       *volumeWire `json:"volume"`
	NeedsRestart bool        `json:"needs_restart"`
}

// strictDecode decodes raw into v, refusing fields v does not know.
func strictDecode(t *testing.T, what string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode strictly into %T: %v\n%s", what, v, err, raw)
	}
}

// requireFields checks that each dotted path is present in raw and, for
// strings, not empty.
func requireFields(t *testing.T, what string, raw []byte, paths ...string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, p := range paths {
		v := doc
		for _, key := range strings.Split(p, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: %s: not an object at %q", what, p, key)
			}
			if v, ok = obj[key]; !ok {
				t.Fatalf("%s lacks required field %s\n%s", what, p, raw)
			}
		}
		if s, ok := v.(string); ok && s == "" {
			t.Fatalf("%s has an empty %s", what, p)
		}
	}
}

// swaggerSchema is the subset of Swagger 2.0 schema objects the spec uses.
type swaggerSchema struct {
	Ref                  string                    `json:"$ref"`
	Type                 string                    `json:"type"`
	Properties           map[string]*swaggerSchema `json:"properties"`
	Items                *swaggerSchema            `json:"items"`
	AdditionalProperties *swaggerSchema            `json:"additionalProperties"`
}

func loadSwagger(t *testing.T) map[string]*swaggerSchema {
	t.Helper()
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		t.Fatalf("Fly's Machines API spec is needed for this test and was not found at %s: %v", swaggerPath, err)
	}
	var doc struct {
		Definitions map[string]*swaggerSchema `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", swaggerPath, err)
	}
	return doc.Definitions
}

// notInSwagger lists fields flysim sends that the 2024 spec lacks, each
// because fly-go reads it (fly-go wins where they differ).
var notInSwagger = map[string]string{
	"Machine.version":                  "fly.Machine.Version (fly-go v0.2.2); flyctl waits on it",
	"Machine.host_status":              "fly.Machine.HostStatus (fly-go v0.2.2)",
	"Machine.cordoned":                 "fly.Machine.Cordoned (added to fly-go after v0.2.2; the cordon endpoints are in the spec)",
	"App.internal_numeric_id":          "flaps.App (fly-go v0.2.2)",
	"App.network":                      "flaps.App (fly-go v0.2.2); ListApp in the spec has it",
	"App.machine_count":                "flaps.App (fly-go v0.2.2); ListApp in the spec has it",
	"App.volume_count":                 "flaps.App (fly-go v0.2.2)",
	"App.cname_target":                 "flaps.App (fly-go v0.2.2)",
	"App.app_role":                     "flaps.App (fly-go v0.2.2)",
	"Organization.internal_numeric_id": "flaps.AppOrganizationInfo (fly-go v0.2.2)",
	"Volume.host_dedication_id":        "fly.Volume (fly-go v0.2.2)",
	"Volume.host_status":               "fly.Volume (fly-go v0.2.2)",
	"VolumeSnapshot.volume_size":       "fly.VolumeSnapshot (fly-go v0.2.2); a restore must be at least this big",
	"VolumeSnapshot.retention_days":    "fly.VolumeSnapshot (fly-go v0.2.2)",
}

// checkSwagger walks v (decoded JSON) against the named definition: every
// property must be declared, with a matching JSON type.
func checkSwagger(t *testing.T, defs map[string]*swaggerSchema, def string, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, problem := range walkSwagger(defs, def, &swaggerSchema{Ref: "#/definitions/" + def}, v, def) {
		t.Errorf("%s: %s", def, problem)
	}
}

func walkSwagger(defs map[string]*swaggerSchema, name string, s *swaggerSchema, v any, path string) []string {
	if s.Ref != "" {
		name = strings.TrimPrefix(s.Ref, "#/definitions/")
		if s = defs[name]; s == nil {
			return []string{fmt.Sprintf("%s: $ref to unknown definition %s", path, name)}
		}
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if s.Type != "" && s.Type != "object" {
			return []string{fmt.Sprintf("%s is an object, the spec says %s", path, s.Type)}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var sub *swaggerSchema
			switch {
			case s.Properties != nil:
				sub = s.Properties[k]
			case s.AdditionalProperties != nil:
				sub = s.AdditionalProperties
			default:
				continue // a free-form object
			}
			if sub == nil {
				if _, ok := notInSwagger[name+"."+k]; !ok {
					out = append(out, fmt.Sprintf("%s.%s is not in the spec's %s", path, k, name))
				}
				continue
			}
			out = append(out, walkSwagger(defs, name, sub, v[k], path+"."+k)...)
		}
	case []any:
		if s.Type != "" && s.Type != "array" {
			return []string{fmt.Sprintf("%s is an array, the spec says %s", path, s.Type)}
		}
		if s.Items != nil {
			for i, item := range v {
				out = append(out, walkSwagger(defs, name, s.Items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case string:
		if s.Type != "" && s.Type != "string" {
			out = append(out, fmt.Sprintf("%s is a string, the spec says %s", path, s.Type))
		}
	case float64:
		if s.Type == "integer" && v != math.Trunc(v) || s.Type != "" && s.Type != "integer" && s.Type != "number" {
			out = append(out, fmt.Sprintf("%s is %v, the spec says %s", path, v, s.Type))
		}
	case bool:
		if s.Type != "" && s.Type != "boolean" {
			out = append(out, fmt.Sprintf("%s is a boolean, the spec says %s", path, s.Type))
		}
	}
	return out
}

// raw makes a request with the test token and insists on the status.
func (e *env) raw(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	code, raw := rawDo(t, e, method, path, body, testToken)
	if code != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, code, raw, want)
	}
	return raw
}

var machineFields = []string{"id", "name", "state", "region", "instance_id", "version", "private_ip",
	"created_at", "updated_at", "config.image", "config.guest", "image_ref.repository", "image_ref.digest", "events", "host_status"}

func TestConformance(t *testing.T) {
	t.Parallel()
	defs := loadSwagger(t)
	e := newEnv(t, Options{})

	// Apps.
	created := e.raw(t, "POST", "/v1/apps", `{"name":"conf","org_slug":"`+testOrg+`","network":"conf-net"}`, http.StatusCreated)
	got := e.raw(t, "GET", "/v1/apps/conf", "", http.StatusOK)
	for what, raw := range map[string][]byte{"created app": created, "app": got} {
		strictDecode(t, what, raw, &flaps.App{})
		requireFields(t, what, raw, "id", "name", "status", "organization.slug", "organization.name")
		checkSwagger(t, defs, "App", raw)
	}
	var list struct {
		Apps      []flaps.App `json:"apps"`
		TotalApps int         `json:"total_apps"`
	}
	strictDecode(t, "app list", e.raw(t, "GET", "/v1/apps?org_slug="+testOrg, "", http.StatusOK), &list)

	// Machines: a fresh one (with a lease nonce), a started one, a listing,
	// and a crashed one, whose exit event carries the most detail.
	launch := `{"region":"ams","lease_ttl":30,"config":{"image":"nginx:1.27","env":{"A":"1"},"metadata":{"k":"v"}}}`
	fresh := e.raw(t, "POST", "/v1/apps/conf/machines", launch, http.StatusOK)
	var m machineWire
	strictDecode(t, "created machine", fresh, &m)
	requireFields(t, "created machine", fresh, append(machineFields, "nonce")...)
	checkSwagger(t, defs, "Machine", fresh)
	e.wait("conf", &m.Machine, "started")

	e.sim.SetFaults(Faults{Seed: 1, CrashRate: 1})
	doomed := e.launch("conf", launchInput("fra", nil))
	eventually(t, "a crash", func() bool {
		for _, x := range e.sim.Machines("conf") {
			if x.ID == doomed.ID && x.State == "failed" {
				return true
			}
		}
		return false
	})
	e.sim.SetFaults(Faults{})

	for _, id := range []string{m.ID, doomed.ID} {
		raw := e.raw(t, "GET", "/v1/apps/conf/machines/"+id, "", http.StatusOK)
		var got machineWire
		strictDecode(t, "machine", raw, &got)
		requireFields(t, "machine", raw, machineFields...)
		checkSwagger(t, defs, "Machine", raw)
		for i := range got.Events {
			if got.Events[i].ID == "" || got.Events[i].Type == "" || got.Events[i].Timestamp == 0 {
				t.Fatalf("event without id, type or timestamp: %+v", got.Events[i])
			}
		}
	}
	listed := e.raw(t, "GET", "/v1/apps/conf/machines", "", http.StatusOK)
	var ms []machineWire
	strictDecode(t, "machine list", listed, &ms)
	if len(ms) != 2 {
		t.Fatalf("listed %d machines", len(ms))
	}
	var items []json.RawMessage
	_ = json.Unmarshal(listed, &items)
	for _, item := range items {
		requireFields(t, "listed machine", item, machineFields...)
		checkSwagger(t, defs, "Machine", item)
	}

	// Leases.
	lease := e.raw(t, "POST", "/v1/apps/conf/machines/"+doomed.ID+"/lease?ttl=30", `{"description":"conformance"}`, http.StatusOK)
	strictDecode(t, "lease", lease, &leaseWire{})
	requireFields(t, "lease", lease, "status", "data.nonce", "data.expires_at", "data.owner", "data.version")
	var l leaseWire
	_ = json.Unmarshal(lease, &l)
	raw, _ := json.Marshal(l.Data)
	checkSwagger(t, defs, "Lease", raw)

	// IP assignments.
	ip := e.raw(t, "POST", "/v1/apps/conf/ip_assignments", `{"type":"private_v6","org_slug":"`+testOrg+`"}`, http.StatusOK)
	strictDecode(t, "ip assignment", ip, &flaps.IPAssignment{})
	requireFields(t, "ip assignment", ip, "ip", "region", "created_at", "shared")
	strictDecode(t, "ip list", e.raw(t, "GET", "/v1/apps/conf/ip_assignments", "", http.StatusOK), &flaps.ListIPAssignmentsResponse{})

	// Secrets.
	secretFields := []string{"name", "digest", "created_at", "updated_at"}
	upd := e.raw(t, "POST", "/v1/apps/conf/secrets", `{"values":{"A":"1","B":"2"}}`, http.StatusOK)
	strictDecode(t, "secrets update", upd, &fly.UpdateAppSecretsResp{})
	requireFields(t, "secrets update", upd, "version", "secrets")
	set := e.raw(t, "POST", "/v1/apps/conf/secrets/C", `{"value":"3"}`, http.StatusOK)
	strictDecode(t, "secret set", set, &fly.SetAppSecretResp{})
	requireFields(t, "secret set", set, append(secretFields, "version")...)
	shown := e.raw(t, "GET", "/v1/apps/conf/secrets?show_secrets=true", "", http.StatusOK)
	strictDecode(t, "secrets list", shown, &fly.ListAppSecretsResp{})
	var secrets struct{ Secrets []json.RawMessage }
	_ = json.Unmarshal(shown, &secrets)
	for _, sec := range secrets.Secrets {
		requireFields(t, "listed secret", sec, append(secretFields, "value")...)
	}
	del := e.raw(t, "DELETE", "/v1/apps/conf/secrets/C", "", http.StatusOK)
	strictDecode(t, "secret delete", del, &fly.DeleteAppSecretResp{})
	requireFields(t, "secret delete", del, "version")

	conformVolumes(t, e, defs)
	conformChecks(t, e, defs)
}

// conformChecks checks a machine's "checks", passing and failing, on GET
// machine and list machines, in an app of its own.
func conformChecks(t *testing.T, e *env, defs map[string]*swaggerSchema) {
	t.Helper()
	e.raw(t, "POST", "/v1/apps", `{"name":"conf-checks","org_slug":"`+testOrg+`"}`, http.StatusCreated)
	created := e.raw(t, "POST", "/v1/apps/conf-checks/machines", `{"region":"ams","config":{"image":"nginx:1.27",`+
		`"services":[{"protocol":"tcp","internal_port":8080,"checks":[{"type":"http","path":"/health","grace_period":"100ms"},{"type":"tcp","grace_period":"100ms"}]}],`+
		`"checks":{"alive":{"type":"tcp","port":8080,"grace_period":"100ms"}}}}`, http.StatusOK)
	var m machineWire
	strictDecode(t, "machine with checks", created, &m)
	checkSwagger(t, defs, "Machine", created)
	eventually(t, "the checks passing", func() bool {
		got := e.sim.Machines("conf-checks")
		return len(got) == 1 && got[0].AllHealthChecks().Total == 3 && got[0].AllHealthChecks().AllPassing()
	})
	checkFields := []string{"name", "status", "output", "updated_at"}
	conform := func(what string, raw []byte) {
		t.Helper()
		var got machineWire
		strictDecode(t, what, raw, &got)
		requireFields(t, what, raw, append(machineFields, "checks")...)
		checkSwagger(t, defs, "Machine", raw)
		var doc struct{ Checks []json.RawMessage }
		if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Checks) != 3 {
			t.Fatalf("%s: %d checks, %v\n%s", what, len(doc.Checks), err, raw)
		}
		for _, c := range doc.Checks {
			requireFields(t, what+" check", c, checkFields...)
			checkSwagger(t, defs, "CheckStatus", c)
		}
	}
	conform("machine with passing checks", e.raw(t, "GET", "/v1/apps/conf-checks/machines/"+m.ID, "", http.StatusOK))
	if err := e.sim.FailMachineChecks("conf-checks", m.ID); err != nil {
		t.Fatal(err)
	}
	conform("machine with failing checks", e.raw(t, "GET", "/v1/apps/conf-checks/machines/"+m.ID, "", http.StatusOK))
	var items []json.RawMessage
	if err := json.Unmarshal(e.raw(t, "GET", "/v1/apps/conf-checks/machines", "", http.StatusOK), &items); err != nil || len(items) != 1 {
		t.Fatalf("machine list: %v, %d items", err, len(items))
	}
	conform("listed machine with failing checks", items[0])
}

var volumeFields = []string{"id", "name", "state", "size_gb", "region", "zone", "encrypted", "created_at",
	"snapshot_retention", "auto_backup_enabled", "fstype", "attached_machine_id"}

// conformVolumes checks every volume answer, and a machine that mounts one,
// in app conf.
func conformVolumes(t *testing.T, e *env, defs map[string]*swaggerSchema) {
	t.Helper()
	checkVolume := func(what string, raw []byte) volumeWire {
		t.Helper()
		var v volumeWire
		strictDecode(t, what, raw, &v)
		requireFields(t, what, raw, volumeFields...)
		checkSwagger(t, defs, "Volume", raw)
		return v
	}
	vol := checkVolume("created volume", e.raw(t, "POST", "/v1/apps/conf/volumes",
		`{"name":"conf_data","region":"ams","size_gb":3,"snapshot_retention":7}`, http.StatusOK))
	spare := checkVolume("created volume", e.raw(t, "POST", "/v1/apps/conf/volumes",
		`{"name":"conf_spare","region":"ams","size_gb":1,"encrypted":false,"fstype":"raw"}`, http.StatusOK))

	mounted := e.raw(t, "POST", "/v1/apps/conf/machines",
		`{"region":"ams","config":{"image":"nginx:1.27","mounts":[{"volume":"`+vol.ID+`","path":"/data"}]}}`, http.StatusOK)
	var m machineWire
	strictDecode(t, "machine with a mount", mounted, &m)
	requireFields(t, "machine with a mount", mounted, "config.mounts")
	checkSwagger(t, defs, "Machine", mounted)

	got := checkVolume("volume", e.raw(t, "GET", "/v1/apps/conf/volumes/"+vol.ID, "", http.StatusOK))
	if got.AttachedMachine == nil || *got.AttachedMachine != m.ID {
		t.Fatalf("attached_machine_id = %v, want %s", got.AttachedMachine, m.ID)
	}
	listed := e.raw(t, "GET", "/v1/apps/conf/volumes", "", http.StatusOK)
	var items []json.RawMessage
	if err := json.Unmarshal(listed, &items); err != nil || len(items) != 2 {
		t.Fatalf("volume list: %v, %d items\n%s", err, len(items), listed)
	}
	for _, item := range items {
		checkVolume("listed volume", item)
	}
	checkVolume("updated volume", e.raw(t, "PUT", "/v1/apps/conf/volumes/"+vol.ID, `{"snapshot_retention":14}`, http.StatusOK))

	extended := e.raw(t, "PUT", "/v1/apps/conf/volumes/"+vol.ID+"/extend", `{"size_gb":4}`, http.StatusOK)
	strictDecode(t, "extended volume", extended, &extendWire{})
	requireFields(t, "extended volume", extended, "needs_restart", "volume.id", "volume.size_gb")
	checkSwagger(t, defs, "ExtendVolumeResponse", extended)

	e.raw(t, "POST", "/v1/apps/conf/volumes/"+vol.ID+"/snapshots", "", http.StatusOK)
	snaps := e.raw(t, "GET", "/v1/apps/conf/volumes/"+vol.ID+"/snapshots", "", http.StatusOK)
	strictDecode(t, "snapshot list", snaps, &[]fly.VolumeSnapshot{})
	if err := json.Unmarshal(snaps, &items); err != nil || len(items) != 1 {
		t.Fatalf("snapshot list: %v, %d items\n%s", err, len(items), snaps)
	}
	requireFields(t, "snapshot", items[0], "id", "size", "volume_size", "digest", "created_at", "status", "retention_days")
	checkSwagger(t, defs, "VolumeSnapshot", items[0])

	checkVolume("deleted volume", e.raw(t, "DELETE", "/v1/apps/conf/volumes/"+spare.ID, "", http.StatusOK))
}

// The swagger walk itself must catch what it is there to catch.
func TestSwaggerWalkFindsStrayFields(t *testing.T) {
	defs := loadSwagger(t)
	for _, tc := range []struct {
		json string
		want string
	}{
		{`{"id":"x","bogus":1}`, "Machine.bogus is not in the spec"},
		{`{"events":[{"id":"e","stray":true}]}`, "Machine.events[0].stray"},
		{`{"config":{"guest":{"cpus":"one"}}}`, "Machine.config.guest.cpus is a string"},
		{`{"id":"x","version":"v","cordoned":false}`, ""},
	} {
		var v any
		_ = json.Unmarshal([]byte(tc.json), &v)
		got := strings.Join(walkSwagger(defs, "Machine", &swaggerSchema{Ref: "#/definitions/Machine"}, v, "Machine"), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.json, got, tc.want)
		}
	}
}
