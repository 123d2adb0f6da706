package oauth

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// The sign-in page stands in for Fly's login and consent screens: instead
// of a password it lists the configured users, each as a submit button a
// browser test can click by id (#login-<user id>) or by data-user-email.
// html/template escapes every value, including the hidden fields that carry
// the authorization request back to POST /oauth/authorize, where it is
// validated again as if it had never been seen.

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Fly.io (simulated)</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Sign in to Fly.io (simulated)</h1>
<p><strong>{{.ClientID}}</strong> wants <strong>{{.Scope}}</strong> access to your Fly.io account: your name, email and organizations.</p>
<p class="note">This is flysim, a stand-in for Fly.io. Pick the user to sign in as; no password is asked.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">
{{- if .CodeChallenge}}
<input type="hidden" name="code_challenge" value="{{.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="S256">
{{- end}}
<ul>
{{- range .Users}}
<li><button type="submit" name="user_id" value="{{.ID}}" id="login-{{.ID}}" data-user-email="{{.Email}}">{{.Name}} ({{.Email}})</button>
<span class="orgs">{{range $i, $m := .Organizations}}{{if $i}}, {{end}}{{$m.Role}} of {{$m.ID}}{{else}}no organizations{{end}}</span></li>
{{- else}}
<li>No users can sign in: configure some (Options.OAuth.Users, --oauth-users).</li>
{{- end}}
</ul>
<button type="submit" name="deny" value="1" id="deny" class="deny">Deny</button>
</form>
</main>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in to Fly.io (simulated): {{.Code}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Sign-in failed</h1>
<p><code id="error">{{.Code}}</code></p>
<p id="error-description">{{.Description}}</p>
<p class="note">flysim did not send you back to the application: when the request itself is in doubt, the error is shown here instead of being sent to a redirect URI (RFC 6749 §4.1.2.1).</p>
</main>
</body>
</html>
`))

const pageStyle = `body{font-family:system-ui,sans-serif;background:#f5f3ff;color:#1f1147;margin:0}
main{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.75rem;box-shadow:0 1px 4px #0002}
ul{list-style:none;padding:0}li{margin:.75rem 0}
button{font:inherit;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #7c3aed;background:#7c3aed;color:#fff;cursor:pointer}
button.deny{background:#fff;color:#7c3aed}.orgs,.note{display:block;color:#6b7280;font-size:.9rem;margin-top:.25rem}`

// htmlHeaders keep the pages out of caches and frames, and the code and
// state out of Referer headers. form-action is deliberately absent from the
// CSP: browsers apply it to the redirect after the form is posted, which
// goes to the client's origin.
func htmlHeaders() http.Header {
	return http.Header{
		"Content-Type":            {"text/html; charset=utf-8"},
		"Cache-Control":           {"no-store"},
		"Referrer-Policy":         {"no-referrer"},
		"X-Frame-Options":         {"DENY"},
		"Content-Security-Policy": {"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"},
	}
}

func renderPage(status int, t *template.Template, data any) respond.Reply {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return respond.Err(http.StatusInternalServerError, "internal: rendering "+t.Name()+" page: "+err.Error())
	}
	return respond.Reply{Code: status, Body: b.Bytes(), Header: htmlHeaders()}
}

func loginPage(req authzRequest, users []User) respond.Reply {
	return renderPage(http.StatusOK, loginTemplate, struct {
		ClientID, RedirectURI, Scope, State, CodeChallenge string
		Users                                              []User
	}{req.client.ID, req.redirectURI, req.scope, req.state, req.challenge, users})
}

func errorPage(status int, code, description string) respond.Reply {
	return renderPage(status, errorTemplate, struct{ Code, Description string }{code, description})
}
