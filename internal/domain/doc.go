// Package domain is what the gateway, the controllers and the dashboard
// share about an extension, so that each says it the same way:
//
//   - naming.go: every name Jetway derives from Fly's ids (Kubernetes
//     objects, Fly apps, DNS names), deterministic so a retry finds what an
//     earlier attempt made;
//   - settings.go: the provider-wide choices those names depend on, built
//     once by the manager and handed to every consumer;
//   - resource.go: an Extension as Fly sees it (GET and every webhook);
//   - nameclaim.go, tombstone.go: the two lifecycles that outlive one
//     Extension object (a name held while its extension exists, and the
//     memory of a deleted extension);
//   - plans.go, credentials.go, render.go: which plan applies, the generated
//     credentials, and the config Fly sets on the customer's app;
//   - accounts.go: the provider-side mirror of Fly organizations and members;
//   - extindex.go: the cache indexes more than one reader relies on;
//   - machineref.go: how a Fly machine is named in a Kubernetes Event.
//
// It imports only the API types and Kubernetes libraries: nothing here
// talks to Fly.
package domain
