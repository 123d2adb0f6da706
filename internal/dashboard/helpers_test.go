package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/billing"
	"github.com/jetway-dev/jetway/internal/dev/flysim"
	"github.com/jetway-dev/jetway/internal/domain"
)

// The dashboard's unit tests run the real sign-in against flysim's OAuth
// server over HTTP; the Kubernetes side is a fake client, since nothing
// here reconciles (the browser test in test/browser runs it all for real).

const (
	testClientID = "jetway-test"
	testOrg      = "acme"
	testExtID    = "ext-1"
	password     = "s3cret-password-for-tests"
)

var (
	admin    = flysim.OAuthUser{ID: "admin0000000001", Name: "Ada Admin", Email: "ada@customer.fly.io", Organizations: []flysim.OAuthMembership{{ID: testOrg, Role: "admin"}}}
	member   = flysim.OAuthUser{ID: "member000000001", Name: "Max Member", Email: "max@customer.fly.io", Organizations: []flysim.OAuthMembership{{ID: "other", Role: "admin"}, {ID: testOrg, Role: "member"}}}
	outsider = flysim.OAuthUser{ID: "outsider0000001", Name: "Olga Outsider", Email: "olga@customer.fly.io", Organizations: []flysim.OAuthMembership{{ID: "globex", Role: "admin"}}}
)

// clock is a settable clock shared by the dashboard and flysim.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	clock  *clock
	fly    *flysim.Server
	flyURL string
	url    string // the dashboard's origin
	client client.Client
	h      *Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e.url = srv.URL

	e.fly = flysim.New(flysim.Options{Token: "machines-token", OrgSlug: "provider", Now: e.clock.Now,
		OAuth: &flysim.OAuthOptions{
			Clients: []flysim.OAuthClient{{ID: testClientID, Secret: "client-secret", RedirectURIs: []string{srv.URL + "/flyio/callback"}}},
			Users:   []flysim.OAuthUser{admin, member, outsider},
		}})
	t.Cleanup(e.fly.Close)
	flySrv := httptest.NewServer(e.fly)
	t.Cleanup(flySrv.Close)
	e.flyURL = flySrv.URL

	e.client = newFakeClient(t)
	find := func(ctx context.Context, id string) (*jetwayv1.Extension, error) {
		var list jetwayv1.ExtensionList
		if err := e.client.List(ctx, &list); err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].Spec.ID == id {
				return &list.Items[i], nil
			}
		}
		return nil, nil
	}
	h, err := New(Config{
		ExternalURL: srv.URL, ClientID: testClientID, ClientSecret: "client-secret", FlyOAuthURL: flySrv.URL,
		SessionSecrets: [][]byte{testSecret('s')}, Domain: domain.Settings{AppNamePrefix: "jetway", DNSZone: "ext.test"}, Now: e.clock.Now,
		Billing: billing.Settings{Currency: "USD", Clock: e.clock.Now},
	}, e.client, e.client, find, testr.New(t))
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	mux := http.NewServeMux()
	h.Register(mux)
	handler = mux
	return e
}

// newFakeClient holds one ready extension of testOrg with credentials, its
// plan, its Organization and one event.
func newFakeClient(t *testing.T) client.Client {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := jetwayv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ns := domain.Namespace(testOrg)
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Name: domain.ExtensionName(testExtID), Namespace: ns, UID: "uid-1"},
		Spec: jetwayv1.ExtensionSpec{ID: testExtID, Name: "orders-db", Organization: jetwayv1.OrganizationRef{ID: testOrg, Name: "Acme"},
			PrimaryRegion: "mad", ReadRegions: []string{"syd"}, Plan: "starter"},
		Status: jetwayv1.ExtensionStatus{Phase: jetwayv1.PhaseReady, DNSName: "orders-db.ext.test", FlycastIP: "fdaa:0:1::3",
			Machines: []jetwayv1.MachineStatus{{ID: "m-primary-1", Region: "mad", Role: "primary", State: "started"},
				{ID: "m-replica-1", Region: "syd", Role: "replica", State: "started"}},
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Reconciled", Message: "All machines started"}}},
	}
	plan := &jetwayv1.ExtensionPlan{ObjectMeta: metav1.ObjectMeta{Name: "starter"}, Spec: jetwayv1.ExtensionPlanSpec{
		Default: true, Image: "img", Connection: jetwayv1.ConnectionSpec{Port: 5432,
			Config: map[string]string{"DATABASE_URL": "postgres://{{.Username}}:{{.Password}}@{{.Host}}:{{.Port}}/db"}}}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: domain.CredentialsSecretName(ext.Name), Namespace: ns},
		Data: map[string][]byte{domain.SecretKeyUsername: []byte("orders"), domain.SecretKeyPassword: []byte(password)}}
	org := &jetwayv1.Organization{ObjectMeta: metav1.ObjectMeta{Name: domain.OrganizationName(testOrg)},
		Spec: jetwayv1.OrganizationSpec{ID: testOrg}}
	event := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "ev1", Namespace: ns},
		EventTime: metav1.NowMicro(), Regarding: corev1.ObjectReference{UID: "uid-1"}, Type: "Normal",
		Reason: "MachineCreated", Note: "Created primary machine m-primary-1 in mad", Action: "CreateMachine", ReportingController: "jetway"}
	return fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(ext, plan, secret, org, event).WithStatusSubresource(ext).
		WithIndex(&jetwayv1.Extension{}, domain.IndexOrganizationID, func(o client.Object) []string {
			return []string{o.(*jetwayv1.Extension).Spec.Organization.ID}
		}).
		WithIndex(&jetwayv1.UsageLedger{}, domain.IndexLedgerOrganization, func(o client.Object) []string {
			return []string{o.(*jetwayv1.UsageLedger).Spec.OrganizationID}
		}).
		WithIndex(&eventsv1.Event{}, "regarding.uid", func(o client.Object) []string {
			return []string{string(o.(*eventsv1.Event).Regarding.UID)}
		}).Build()
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so each hop of the sign-in can be checked.
type browser struct {
	t   *testing.T
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// startSignIn opens the extension's SSO URL and returns Fly's authorize
// URL it was sent to.
func (e *env) startSignIn(b *browser, ssoPath string) *url.URL {
	e.t.Helper()
	r := b.get(e.url + ssoPath)
	if r.code != http.StatusFound || !strings.HasPrefix(r.location, e.flyURL+"/oauth/authorize?") {
		e.t.Fatalf("SSO answered %d → %q; want a redirect to Fly's authorize", r.code, r.location)
	}
	u, _ := url.Parse(r.location)
	return u
}

// signInAtFly plays the user picking an account on Fly's login page and
// returns the callback URL Fly redirects the browser to.
func (e *env) signInAtFly(b *browser, authorize *url.URL, user flysim.OAuthUser) string {
	e.t.Helper()
	if r := b.get(authorize.String()); r.code != http.StatusOK {
		e.t.Fatalf("Fly's authorize page answered %d: %s", r.code, r.body)
	}
	form := authorize.Query()
	form.Set("user_id", user.ID)
	r := b.post(e.flyURL+"/oauth/authorize", form)
	if r.code != http.StatusFound || !strings.HasPrefix(r.location, e.url+"/flyio/callback?") {
		e.t.Fatalf("Fly's login answered %d → %q", r.code, r.location)
	}
	return r.location
}

// signIn runs the whole sign-in for user into ssoPath and returns the
// callback's answer.
func (e *env) signIn(b *browser, ssoPath string, user flysim.OAuthUser) response {
	e.t.Helper()
	return b.get(e.signInAtFly(b, e.startSignIn(b, ssoPath), user))
}

func (b *browser) cookie(base, name string) *http.Cookie {
	u, _ := url.Parse(base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// csrfOf pulls the CSRF token out of a rendered page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no CSRF token on the page:\n%s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
