package conformance

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// breaks are the rules a fake provider can be told to break, one per test
// case, to prove the check that guards each rule can fail.
type breaks struct {
	acceptUnsigned  bool // no X-Signature is let through
	acceptStale     bool // no timestamp window
	acceptReplay    bool // nonces may repeat
	ignoreURL       bool // the signed url is not compared
	createOnRefusal bool // refuses a stale POST, but creates the resource first
	slowCreate      time.Duration
	repeat500       bool // an identical repeated POST fails
	noIDConflict    bool // the same id with another name is accepted
	patchIgnored    bool // PATCH answers 200 and changes nothing
	neverReady      bool // stays pending forever
	delete404       bool // DELETE of a gone resource answers 404 (a silent choice: info)
	deleteStuck     bool // DELETE answers 202 forever
	ssoNoScope      bool // the authorize URL has no scope
	noBilling       bool // no billing endpoint at all (skip)
	badWebhookSig   bool // webhooks signed with the wrong secret
	anySignature    bool // any X-Signature is let through
	acceptMissing   bool // timestamp, nonce and url are optional
	noStatus        bool // GET has no status word
	duplicateNames  bool // two ids may hold one name
	unknownIs200    bool // GET of an unknown id answers 200
	billingNoDays   bool // the billing answer has no days
	ssoWrongOrg     bool // the authorize URL names another organization
	noDeletedHook   bool // no resource.deleted (a silent choice: info)
}

type fakeResource struct {
	id, name, org, status string
	regions               []string
	deleting              int // GETs left until a deleting resource is gone
}

// fakeProvider keeps Fly's contract as the page describes it, written
// independently of the suite's own client code, except where told to
// break a rule.
type fakeProvider struct {
	srv                   *httptest.Server
	secret, webhookSecret []byte
	webhookURL            string
	breaks                breaks

	mu     sync.Mutex
	res    map[string]*fakeResource
	gone   map[string]bool
	nonces map[string]bool
}

func newFakeProvider(secret, webhookSecret []byte, webhookURL string, b breaks) *fakeProvider {
	p := &fakeProvider{secret: secret, webhookSecret: webhookSecret, webhookURL: webhookURL, breaks: b,
		res: map[string]*fakeResource{}, gone: map[string]bool{}, nonces: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /flyio/extensions", p.create)
	mux.HandleFunc("GET /flyio/extensions/{id}", p.get)
	mux.HandleFunc("PATCH /flyio/extensions/{id}", p.update)
	mux.HandleFunc("DELETE /flyio/extensions/{id}", p.remove)
	mux.HandleFunc("GET /flyio/extensions/{id}/sso", p.sso)
	if !b.noBilling {
		mux.HandleFunc("GET /flyio/billing", p.billing)
	}
	p.srv = httptest.NewServer(mux)
	return p
}

func (p *fakeProvider) base() string { return p.srv.URL + "/flyio" }

// verify checks the signature and the signing parameters; it returns the
// parsed body (POST, PATCH) and a refusal reason ("" when the request is
// good).
func (p *fakeProvider) verify(r *http.Request) (map[string]any, string) {
	var signed []byte
	var ts, nonce, target string
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		signed, _ = io.ReadAll(r.Body)
		if json.Unmarshal(signed, &body) != nil {
			return nil, "invalid json"
		}
		switch v := body["timestamp"].(type) {
		case float64:
			ts = strconv.FormatInt(int64(v), 10)
		case string:
			ts = v
		}
		nonce, _ = body["nonce"].(string)
		target, _ = body["url"].(string)
	} else {
		signed = []byte(r.URL.RawQuery)
		q := r.URL.Query()
		ts, nonce, target = q.Get("timestamp"), q.Get("nonce"), q.Get("url")
	}
	sig := r.Header.Get("X-Signature")
	if sig == "" {
		if !p.breaks.acceptUnsigned {
			return body, "missing signature"
		}
	} else {
		h := hmac.New(sha256.New, p.secret)
		h.Write(signed)
		got, err := hex.DecodeString(sig)
		if (err != nil || !hmac.Equal(got, h.Sum(nil))) && !p.breaks.anySignature {
			return body, "bad signature"
		}
	}
	if ts == "" || nonce == "" || target == "" {
		if p.breaks.acceptMissing {
			return body, ""
		}
		return body, "missing signed params"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return body, "bad timestamp"
	}
	if d := time.Since(time.Unix(sec, 0)); (d > 5*time.Minute || d < -5*time.Minute) && !p.breaks.acceptStale {
		return body, "stale timestamp"
	}
	if target != p.srv.URL+r.URL.Path && !p.breaks.ignoreURL {
		return body, "url mismatch"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nonces[nonce] && !p.breaks.acceptReplay {
		return body, "replayed nonce"
	}
	p.nonces[nonce] = true
	return body, ""
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, why string) {
	reply(w, http.StatusUnauthorized, map[string]string{"error": why})
}

func (r *fakeResource) view() map[string]any {
	regions := r.regions
	if regions == nil {
		regions = []string{}
	}
	return map[string]any{"id": r.id, "name": r.name, "status": r.status, "organization_id": r.org, "read_regions": regions}
}

// view as GET shows it, which may break the shape.
func (p *fakeProvider) view(r *fakeResource) map[string]any {
	v := r.view()
	if p.breaks.noStatus {
		delete(v, "status")
	}
	return v
}

func (p *fakeProvider) create(w http.ResponseWriter, r *http.Request) {
	body, why := p.verify(r)
	if why == "stale timestamp" && p.breaks.createOnRefusal {
		id, _ := body["id"].(string)
		p.mu.Lock()
		p.res[id] = &fakeResource{id: id, status: "ready"}
		p.mu.Unlock()
	}
	if why != "" {
		refuse(w, why)
		return
	}
	time.Sleep(p.breaks.slowCreate)
	id, _ := body["id"].(string)
	name, _ := body["name"].(string)
	org, _ := body["organization_id"].(string)
	p.mu.Lock()
	if old, ok := p.res[id]; ok {
		p.mu.Unlock()
		switch {
		case old.name != name && !p.breaks.noIDConflict:
			refuse409(w)
		case p.breaks.repeat500:
			reply(w, http.StatusInternalServerError, map[string]string{"error": "boom"})
		default:
			reply(w, http.StatusOK, withConfig(old))
		}
		return
	}
	for _, other := range p.res {
		if other.name == name && !p.breaks.duplicateNames {
			p.mu.Unlock()
			refuse409(w)
			return
		}
	}
	res := &fakeResource{id: id, name: name, org: org, status: "pending"}
	p.res[id] = res
	answer := withConfig(res)
	p.mu.Unlock()
	reply(w, http.StatusCreated, answer)
}

func refuse409(w http.ResponseWriter) {
	reply(w, http.StatusConflict, map[string]string{"error": "conflict"})
}

func withConfig(r *fakeResource) map[string]any {
	v := r.view()
	v["config"] = map[string]string{"FAKE_URL": "fake://" + r.id}
	return v
}

// lookup answers GET's 404 and advances the fake's clock: a pending
// resource is ready on the next look, a deleting one gone after a few.
func (p *fakeProvider) lookup(id string) (*fakeResource, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res, ok := p.res[id]
	if !ok {
		return nil, false
	}
	switch res.status {
	case "pending":
		if !p.breaks.neverReady {
			res.status = "ready"
			go p.notify("resource.updated", res.view())
		}
	case "deleting":
		if p.breaks.deleteStuck {
			break
		}
		if res.deleting--; res.deleting <= 0 {
			delete(p.res, id)
			p.gone[id] = true
			if !p.breaks.noDeletedHook {
				go p.notify("resource.deleted", res.view())
			}
			return nil, false
		}
	}
	return res, true
}

func (p *fakeProvider) get(w http.ResponseWriter, r *http.Request) {
	if _, why := p.verify(r); why != "" {
		refuse(w, why)
		return
	}
	res, ok := p.lookup(r.PathValue("id"))
	if !ok && p.breaks.unknownIs200 {
		reply(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "status": "pending"})
		return
	}
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	reply(w, http.StatusOK, p.view(res))
}

func (p *fakeProvider) update(w http.ResponseWriter, r *http.Request) {
	body, why := p.verify(r)
	if why != "" {
		refuse(w, why)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	res, ok := p.res[r.PathValue("id")]
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	if list, ok := body["read_regions"].([]any); ok && !p.breaks.patchIgnored {
		res.regions = nil
		for _, v := range list {
			res.regions = append(res.regions, fmt.Sprint(v))
		}
	}
	reply(w, http.StatusOK, res.view())
}

func (p *fakeProvider) remove(w http.ResponseWriter, r *http.Request) {
	if _, why := p.verify(r); why != "" {
		refuse(w, why)
		return
	}
	id := r.PathValue("id")
	p.mu.Lock()
	defer p.mu.Unlock()
	if res, ok := p.res[id]; ok {
		if res.status != "deleting" {
			res.status, res.deleting = "deleting", 2
		}
		reply(w, http.StatusAccepted, res.view())
		return
	}
	if p.gone[id] && !p.breaks.delete404 {
		reply(w, http.StatusOK, map[string]string{"id": id})
		return
	}
	reply(w, http.StatusNotFound, map[string]string{"error": "not_found"})
}

func (p *fakeProvider) sso(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	res, ok := p.res[r.PathValue("id")]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	q := url.Values{"client_id": {"fake"}, "response_type": {"code"}, "redirect_uri": {p.base() + "/callback"},
		"organization_id": {res.org}}
	if p.breaks.ssoWrongOrg {
		q.Set("organization_id", "someone-else")
	}
	if !p.breaks.ssoNoScope {
		q.Set("scope", "read")
	}
	http.Redirect(w, r, "https://api.fly.io/oauth/authorize?"+q.Encode(), http.StatusFound)
}

func (p *fakeProvider) billing(w http.ResponseWriter, r *http.Request) {
	if _, why := p.verify(r); why != "" {
		refuse(w, why)
		return
	}
	q := r.URL.Query()
	if p.breaks.billingNoDays {
		reply(w, http.StatusOK, map[string]any{"organization_id": q.Get("organization_id")})
		return
	}
	reply(w, http.StatusOK, map[string]any{"organization_id": q.Get("organization_id"), "currency": "USD",
		"days": []any{map[string]any{"date": q.Get("from"), "final": false, "total_micros": 0, "items": []any{}}}})
}

// notify sends a webhook signed as the page says, with the webhook secret.
func (p *fakeProvider) notify(action string, resource map[string]any) {
	if p.webhookURL == "" {
		return
	}
	body, _ := json.Marshal(map[string]any{"timestamp": strconv.FormatInt(time.Now().Unix(), 10), "action": action, "resource": resource})
	secret := p.webhookSecret
	if p.breaks.badWebhookSig {
		secret = []byte("some other secret")
	}
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	req, _ := http.NewRequest(http.MethodPost, p.webhookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", hex.EncodeToString(h.Sum(nil)))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
