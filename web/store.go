package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// storeView is the store's front page.
type storeView struct {
	Query, Category string
	Categories      []string
	Apps            []api.CatalogApp
}

// storeAppView is one app's page in the store.
type storeAppView struct {
	App    api.CatalogApp
	Asks   []string // the permissions, in plain words
	Memory string
}

func itoa(i int) string { return strconv.Itoa(i) }

// categoryTitle is a category as a heading.
func categoryTitle(c string) string {
	if c == "" {
		return "Other"
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

func stepStateText(s string) string {
	switch s {
	case "pending":
		return "waiting"
	case "running":
		return "working…"
	case "done":
		return "done"
	case "failed":
		return "failed"
	case "undone":
		return "undone"
	}
	return s
}

// store lists the catalogs' apps, by category and search.
func (u *UI) store(w http.ResponseWriter, r *http.Request, v *viewer) {
	apps, err := u.backend.CatalogApps(r.Context(), "")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	view := storeView{Query: strings.TrimSpace(q.Get("q")), Category: q.Get("category")}
	for _, a := range apps {
		if !slices.Contains(view.Categories, a.Category) && a.Category != "" {
			view.Categories = append(view.Categories, a.Category)
		}
		if view.Category != "" && a.Category != view.Category {
			continue
		}
		if view.Query != "" && !matches(a, view.Query) {
			continue
		}
		view.Apps = append(view.Apps, a)
	}
	slices.Sort(view.Categories)
	u.render(w, r, http.StatusOK, storePage(u.basePage(w, r, v, "Store", "store"), view))
}

// matches reports whether an app's title or tagline holds every word of q.
func matches(a api.CatalogApp, q string) bool {
	text := strings.ToLower(a.Title + " " + a.Tagline)
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// findApp returns a catalog's app.
func (u *UI) findApp(r *http.Request) (api.CatalogApp, error) {
	catalog, id := r.PathValue("catalog"), r.PathValue("app")
	apps, err := u.backend.CatalogApps(r.Context(), catalog)
	if err != nil {
		return api.CatalogApp{}, err
	}
	for _, a := range apps {
		if a.ID == id && a.Catalog == catalog {
			return a, nil
		}
	}
	return api.CatalogApp{}, api.ErrNotFound
}

// storeApp shows one app: what it is and what it asks for.
func (u *UI) storeApp(w http.ResponseWriter, r *http.Request, v *viewer) {
	a, err := u.findApp(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	view := storeAppView{App: a, Memory: memoryText(a.MemoryMin)}
	for _, p := range a.Permissions {
		view.Asks = append(view.Asks, permissionText(p))
	}
	u.render(w, r, http.StatusOK, storeAppPage(u.basePage(w, r, v, a.Title, "store"), view))
}

// install starts installing an app and shows its progress.
func (u *UI) install(w http.ResponseWriter, r *http.Request, v *viewer) {
	a, err := u.findApp(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	op, err := u.backend.Install(r.Context(), api.InstallRequest{App: a.ID, Catalog: a.Catalog})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ops/"+op.ID, http.StatusSeeOther)
}

// categoryHref is the store filtered to one category.
func categoryHref(c string) string { return "/store?category=" + url.QueryEscape(c) }
