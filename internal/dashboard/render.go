package dashboard

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates are parsed once; a template that does not parse fails every
// test of the package, never a customer's request.
var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

// contentSecurityPolicy allows nothing but the page's own inline styles
// and forms posting to the same origin: the dashboard runs no script at
// all, so an injection that slipped past html/template could not run one.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page renders p with status. Every dashboard page may show credentials or
// carry a CSRF token, so none is cached or framed, and none leaks its URL
// (which may hold an OAuth code) to another site. The referrer policy is
// same-origin, not no-referrer: under no-referrer browsers send "Origin:
// null" on the dashboard's own form posts, which the CSRF check refuses.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, status int, p page) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error(err, "Rendering a dashboard page failed", "template", p.Template, "path", r.URL.Path)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
