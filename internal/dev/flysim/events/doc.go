// Package events is a stand-in for the machine events Fly.io sends an
// extension provider that deploys on Fly ("Outbound Webhooks").
//
// Source: Fly's extensions docs, ../shared/spec/
// fly-extensions-provisioning-api.txt lines 296–323, as summarised in
// ../shared/research/fly-protocol.md §2.8. Fly promises "webhooks for
// machine events, such as stops and starts" (line 307) that "conform to
// the CloudEvents spec", with the common attributes in HTTP headers
// (line 309: binary content mode), of type io.fly.machine.<state>
// (line 311), with a body like (lines 316–323)
//
//	{"machine_id":"5683977ad31768","status":"failed",
//	 "data":{"Error":"image not found","Transition":"prepareImage"}}
//
// The docs say nothing about signing them or about retries
// (fly-protocol.md §2.8: "Signing of these: NOT FOUND"), so by default the
// sender signs nothing, as Fly most likely does; given a secret, it signs
// as Jetway's optional hmac mode expects (X-Signature below):
//
//	POST {URL}
//	ce-specversion: 1.0
//	ce-id: <unique per event; the same on a retry or a duplicate>
//	ce-source: /apps/<app>/machines/<id>
//	ce-type: io.fly.machine.<state>
//	ce-time: <RFC3339Nano, UTC>
//	Content-Type: application/json
//	X-Signature: <lowercase hex HMAC-SHA256(secret, SigningMessage(...))>, only with a secret
//
//	{"machine_id":"<id>","app_name":"<app>","status":"<state>","data":{...}}
//
// data is {"Error":"<reason>","Transition":"<flyd step>"} for failed, as in
// Fly's sample, and {"event":"<machine event type>","source":"user|flyd|
// fly-proxy"} otherwise: the same type and source the machine's /events
// list shows for the change. Signatures are made with internal/dev/flysign,
// the harness's own implementation, never with the product's.
//
// Every state change sends one event, asynchronously: a bounded queue feeds
// two senders, so events may arrive out of order, as Fly warns its own do.
// A POST that fails (no connection, 5xx, 408, 425, 429) is tried again,
// three tries in all over about two seconds; any other 4xx is final. An
// event that is not delivered is dropped and counted as failed.
package events
