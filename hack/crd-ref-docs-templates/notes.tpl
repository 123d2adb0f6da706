{{- /*
  Hand-kept notes: behaviour that no Go type or marker in api/ states
  (naming, conditions, finalizers, annotations, the DNSEndpoint Jetway
  writes). They are rendered after each kind's field table. Keep them in
  step with the controllers; better still, move a note into a doc comment
  in api/ and delete it here.
*/ -}}
{{- define "kindNotes" -}}
{{- if eq .Name "Extension" }}

#### Naming and placement

The gateway creates an Extension from Fly's provisioning request, in the namespace of its Fly
organization (`fly-<org>-<hash>`) under the name `ext-<id>-<hash>`, annotated `jetway.dev/origin: fly`.
GitOps can create one anywhere.

- DNS name (`status.dnsName`): `<label>.<zone>`, where the label is `spec.name` lowercased with every run
  of other characters made one `-`. Names must be unique in that form: a later Extension whose label is
  taken is Stalled (`DNSNameTaken`).
- `spec.plan`: the gateway fills in the default plan's name.
- `status.appName`: the Fly app is named `<prefix>-<id>-<hash>`.
- `status.flycastIP`: the `private_v6` address on the app's own network.
- `status.credentialsSecret`: a Secret with `username` and `password`, owned by the Extension; created
  once, never rotated silently.
- `status.notification.acknowledged`: a webhook that was abandoned has no `at`.

#### Conditions

Every condition carries a CamelCase reason and a message. Messages never contain secrets.

| type | True when | typical False reasons |
| --- | --- | --- |
| `Ready` | all four concern conditions are True | `Progressing`, `Deleting`, or the `Stalled` reason |
| `Reconciling` | work is in progress (absent when Ready or Stalled) | — |
| `Stalled` | a failure needs a human: `FlyUnauthorized`, `FlyRejected`, `PlanNotFound`, `AppNameTaken`, `DNSNameTaken` (an older Extension's name has the same DNS form). Tried again on any change, and otherwise every `--stalled-recheck` | — |
| `AppReady` | the Fly app exists and holds the credentials as app secrets | `FlyUnavailable`, `FlyRateLimited`, `AppNameTaken` |
| `MachinesReady` | every desired machine exists and runs (`MachinesRunning`), or all are asleep under autostop (`MachinesAsleep`, status word `sleeping`) | `MachinesStarting`, `MachineFailed`, `MachineWedged` (a primary stuck in a transient state; see the README), `InsufficientCapacity` |
| `NetworkReady` | a Flycast address is allocated | `FlyUnavailable` |
| `DNSReady` | the `DNSEndpoint` AAAA record is written | `NoAddress`, `DNSNameTaken` |
| `FlyNotified` | (owned by the notifier, not part of Ready) Fly acknowledged the current state | `Delivering`, `WebhookFailing`, `WebhookAbandoned` |

These follow kstatus. A new object is not `Current` until `observedGeneration` catches up. A terminal
failure is `Stalled=True` with `observedGeneration == generation`.

#### Finalizers and annotations

- Finalizers: `jetway.dev/teardown` (released once the Fly app, machines and IPs are gone) and
  `jetway.dev/notify-fly` (released once Fly acknowledged `resource.deleted`).
- Annotations: `jetway.dev/origin: fly` on Extensions the gateway created (Fly is not told about a
  resource it created itself); `jetway.dev/machine-event` is set by the gateway when Fly reports a
  machine change.
{{- else if eq .Name "ExtensionPlan" }}

#### Plan selection and updates

- `spec.default`: if several plans are default, the alphabetically first wins.
- `spec.connection.username` defaults to the extension's name as a DNS label.
- Changing a plan's image or machine config updates every extension on it: each machine is updated
  under a Fly lease.
{{- else if eq .Name "Organization" }}

#### Who creates it

The gateway creates an Organization on provisioning (name `org-<id>-<hash>`) and records the
provisioning user as a member. The dashboard records every user who signs in through Fly's OAuth, with
the role Fly reported (`admin` stays admin; any other role is recorded as `member`).
`status.conditions` has `Ready` once the namespace exists.
{{- end }}
{{- end -}}

{{- define "notesTrailer" -}}
## Other resources Jetway writes

### DNSEndpoint (`externaldns.k8s.io/v1alpha1`)

For each extension Jetway writes `<ext>-dns`, owned by the Extension. It holds one AAAA endpoint
`<name>.<zone>` → `spec.ipAddress`, or `status.flycastIP` when Fly allocated no customer address.
external-dns publishes it to the provider's DNS. `config/crd/external` holds the CRD for clusters without
external-dns.
{{- end -}}
