package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// staticFiles are the UI's only style sheet and script.
//
//go:embed static
var staticFiles embed.FS

// staticHandler serves /static/: the files change only with the binary,
// and browsers check them again on every load (they are small).
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the folder is embedded: only a build mistake gets here
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no folder listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
