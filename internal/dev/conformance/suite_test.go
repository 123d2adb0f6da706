package conformance

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runAgainst runs the whole suite against a fake provider that breaks b.
func runAgainst(t *testing.T, b breaks) Report {
	t.Helper()
	secret, whSecret := []byte("provisioning-secret"), []byte("webhook-secret")
	sinkAddr := freeAddr(t)
	p := newFakeProvider(secret, whSecret, "http://"+sinkAddr+"/hook", b)
	t.Cleanup(p.srv.Close)
	s, err := New(Config{BaseURL: p.base(), Secret: secret, Timeout: 2 * time.Second, PollInterval: 10 * time.Millisecond,
		WebhookListen: sinkAddr, WebhookSecret: whSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = rep.Print(&out)
	t.Logf("\n%s", out.String())
	return rep
}

func TestAProviderKeepingTheContractPassesEveryCheck(t *testing.T) {
	rep := runAgainst(t, breaks{})
	for _, r := range rep.Results {
		if r.Outcome != Pass {
			t.Errorf("%s: %s %s", r.ID, r.Outcome, r.Reason)
		}
	}
	if rep.Failed() {
		t.Error("Failed() with every check passing")
	}
}

// TestEachBrokenRuleFailsItsCheck proves each check can fail: the fake
// breaks one rule and the check guarding it must say FAIL.
func TestEachBrokenRuleFailsItsCheck(t *testing.T) {
	flyWindow = 200 * time.Millisecond
	t.Cleanup(func() { flyWindow = 5 * time.Second })
	for _, tc := range []struct {
		name   string
		breaks breaks
		fails  []string
	}{
		{"unsigned accepted", breaks{acceptUnsigned: true}, []string{"sign.unsigned", "sign.get-unsigned", "sign.delete-unsigned", "billing.unsigned"}},
		{"stale timestamp accepted", breaks{acceptStale: true}, []string{"sign.stale-timestamp", "sign.future-timestamp", "sign.patch-stale-timestamp"}},
		{"replay accepted", breaks{acceptReplay: true}, []string{"sign.replayed-post", "sign.replayed-patch"}},
		{"url not checked", breaks{ignoreURL: true}, []string{"sign.url-other-host", "sign.url-other-path", "sign.delete-other-url"}},
		{"created though refused", breaks{createOnRefusal: true}, []string{"sign.stale-timestamp"}},
		{"slower than Fly waits", breaks{slowCreate: 300 * time.Millisecond}, []string{"provision.create"}},
		{"500 on an identical repeat", breaks{repeat500: true}, []string{"provision.repeat"}},
		{"no 409 for a changed repeat", breaks{noIDConflict: true}, []string{"provision.conflict-id"}},
		{"PATCH changes nothing", breaks{patchIgnored: true}, []string{"update.patch"}},
		{"never ready", breaks{neverReady: true}, []string{"provision.create"}},
		{"deletion never finishes", breaks{deleteStuck: true}, []string{"delete.finishes", "cleanup"}},
		{"authorize URL without scope", breaks{ssoNoScope: true}, []string{"sso.redirect"}},
		{"any signature accepted", breaks{anySignature: true}, []string{"sign.wrong-secret", "sign.tampered-body", "sign.get-tampered-query", "sign.patch-wrong-secret"}},
		{"signing parameters optional", breaks{acceptMissing: true}, []string{"sign.missing-timestamp", "sign.missing-nonce", "sign.missing-url"}},
		{"GET without a status word", breaks{noStatus: true}, []string{"provision.get-shape"}},
		{"one name held twice", breaks{duplicateNames: true}, []string{"provision.conflict-name"}},
		{"200 for an unknown id", breaks{unknownIs200: true}, []string{"provision.get-unknown", "sign.unsigned"}},
		{"billing without days", breaks{billingNoDays: true}, []string{"billing.shape"}},
		{"authorize URL for another organization", breaks{ssoWrongOrg: true}, []string{"sso.organization"}},
		{"webhooks signed with another secret", breaks{badWebhookSig: true}, []string{"webhook.signed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := runAgainst(t, tc.breaks)
			for _, id := range tc.fails {
				r, ok := rep.Find(id)
				if !ok {
					t.Fatalf("no check %s", id)
				}
				if r.Outcome != Fail {
					t.Errorf("%s: %s (%s), want FAIL", id, r.Outcome, r.Reason)
				}
			}
			if !rep.Failed() {
				t.Error("Failed() is false")
			}
		})
	}
}

// TestSilentChoicesAreNotFailures: where the page is silent, another
// provider's choice is reported, not failed.
func TestSilentChoicesAreNotFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breaks  breaks
		id      string
		outcome Outcome
	}{
		{"404 for a repeated DELETE", breaks{delete404: true}, "delete.repeat-after", Info},
		{"no billing endpoint", breaks{noBilling: true}, "billing.shape", Skip},
		{"no resource.deleted webhook", breaks{noDeletedHook: true}, "webhook.deleted", Info},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := runAgainst(t, tc.breaks)
			if r, _ := rep.Find(tc.id); r.Outcome != tc.outcome {
				t.Errorf("%s: %s (%s), want %s", tc.id, r.Outcome, r.Reason, tc.outcome)
			}
			if rep.Failed() {
				t.Error("the run failed")
			}
		})
	}
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Secret: []byte("s")},
		{BaseURL: "ftp://x", Secret: []byte("s")},
		{BaseURL: "http://x"},
		{BaseURL: "http://x", Secret: []byte("s"), WebhookListen: "127.0.0.1:0"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}
