package proxy

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
)

// pageTemplate is the proxy's own page: self-contained (no scripts, no
// external assets), every value escaped by html/template.
const pageTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{- if .Refresh}}
<meta http-equiv="refresh" content="{{.Refresh}}">
{{- end}}
<title>{{.Heading}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f6f3ee;color:#2b2622;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{max-width:32rem;margin:1rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin:0 0 .75rem}
p{line-height:1.5;margin:0 0 .75rem}
.code{color:#8a817a;font-size:.85rem;margin:1.25rem 0 0}
a{color:#b4532a}
</style>
</head>
<body>
<main>
<h1>{{.Heading}}</h1>
<p>{{.Text}}</p>
{{- if .Link}}
<p><a href="{{.Link}}">{{.LinkText}}</a></p>
{{- end}}
<p class="code">Hearth · {{.Status}} {{.StatusText}}</p>
</main>
</body>
</html>
`

// page is one of the proxy's own responses.
type page struct {
	Status     int
	RetryAfter int // seconds, 0 = no Retry-After header
	Refresh    int // seconds, 0 = the page does not reload itself
	Heading    string
	Text       string
	Link       string
	LinkText   string
}

// StatusText is the reason phrase of Status.
func (pg page) StatusText() string { return http.StatusText(pg.Status) }

func parsePageTemplate() (*template.Template, error) {
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse page template: %w", err)
	}
	return t, nil
}

// ownPageHeaders are the security headers of every response the proxy
// writes itself (pages and redirects).
func ownPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// renderPage writes pg as a complete response.
func (p *Proxy) renderPage(w http.ResponseWriter, pg page) {
	var buf bytes.Buffer
	if err := p.pages.Execute(&buf, pg); err != nil {
		// Only a bug in the template can cause this.
		p.log.Error("render page", "status", pg.Status, "err", err)
		http.Error(w, http.StatusText(pg.Status), pg.Status)
		return
	}
	h := w.Header()
	ownPageHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if pg.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(pg.RetryAfter))
	}
	w.WriteHeader(pg.Status)
	_, _ = w.Write(buf.Bytes())
}

// redirect answers with a bare redirect (no body) to location.
func redirect(w http.ResponseWriter, location string, status int) {
	h := w.Header()
	ownPageHeaders(h)
	h.Set("Location", location)
	w.WriteHeader(status)
}

func appName(r Route) string {
	if r.Title != "" {
		return r.Title
	}
	return "This app"
}

func statePage(r Route) page {
	name := appName(r)
	switch r.State {
	case StateStarting:
		return page{Status: http.StatusServiceUnavailable, RetryAfter: 5, Refresh: 5,
			Heading: name + " is starting", Text: "It will be ready in a moment. This page reloads by itself."}
	case StateUpdating:
		return page{Status: http.StatusServiceUnavailable, RetryAfter: 10, Refresh: 10,
			Heading: name + " is being updated", Text: "It will be back in a moment. This page reloads by itself."}
	case StateStopped:
		return page{Status: http.StatusServiceUnavailable, RetryAfter: 60,
			Heading: name + " is stopped", Text: "The owner of this box can start it again from Hearth."}
	}
	return unreachablePage(r)
}

func unreachablePage(r Route) page {
	return page{Status: http.StatusBadGateway, RetryAfter: 5, Refresh: 10,
		Heading: appName(r) + " is not answering", Text: "Hearth could not reach it. It may be restarting; this page tries again by itself."}
}

func timeoutPage(r Route) page {
	return page{Status: http.StatusGatewayTimeout, RetryAfter: 5,
		Heading: appName(r) + " took too long to answer", Text: "It may be busy. Try again in a moment."}
}

func tooLargePage(r Route, limit int64) page {
	return page{Status: http.StatusRequestEntityTooLarge,
		Heading: "That upload is too big", Text: fmt.Sprintf("%s accepts uploads of up to %s.", appName(r), byteSize(limit))}
}

func notFoundPage() page {
	return page{Status: http.StatusNotFound,
		Heading: "No app here", Text: "This box has no app at this address. Check the name, or open Hearth to see the apps it has."}
}

func unauthorizedPage(r Route, login string) page {
	pg := page{Status: http.StatusUnauthorized,
		Heading: "Sign in to Hearth first", Text: appName(r) + " is private to the people of this box."}
	if login != "" {
		pg.Link, pg.LinkText = login, "Sign in"
	}
	return pg
}

// byteSize writes n in the largest binary unit that divides it evenly.
func byteSize(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB"}
	u := 0
	for u < len(units)-1 && n >= 1024 && n%1024 == 0 {
		n /= 1024
		u++
	}
	return strconv.FormatInt(n, 10) + " " + units[u]
}
