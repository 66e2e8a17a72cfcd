package state

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPutAppRefusesInvalidApps(t *testing.T) {
	cases := []struct {
		name  string
		tune  func(*App)
		field string
	}{
		{"empty id", func(a *App) { a.ID = "" }, "id"},
		{"one letter id", func(a *App) { a.ID = "a" }, "id"},
		{"upper case id", func(a *App) { a.ID = "Web" }, "id"},
		{"id with slash", func(a *App) { a.ID = "web/x" }, "id"},
		{"id ending with a dash", func(a *App) { a.ID = "web-" }, "id"},
		{"id too long", func(a *App) { a.ID = "a" + strings.Repeat("b", 32) }, "id"},
		{"bad catalog id", func(a *App) { a.CatalogID = "Official" }, "catalogId"},
		{"no version", func(a *App) { a.Version = "" }, "version"},
		{"version with a space", func(a *App) { a.Version = "1.0 beta" }, "version"},
		{"no manifest", func(a *App) { a.Manifest = nil }, "manifest"},
		{"manifest not JSON", func(a *App) { a.Manifest = json.RawMessage(`{"id":`) }, "manifest"},
		{"manifest not an object", func(a *App) { a.Manifest = json.RawMessage(`[1]`) }, "manifest"},
		{"unknown wish", func(a *App) { a.Wanted = "paused" }, "wanted"},
		{"previous version alone", func(a *App) { a.PreviousVersion = "1.1.0" }, "previousManifest"},
		{"previous manifest not JSON", func(a *App) { a.PreviousVersion, a.PreviousManifest = "1.1.0", json.RawMessage("nope") }, "previousManifest"},
		{"empty setting name", func(a *App) { a.Settings = map[string]string{"": "x"} }, "settings."},
		{"setting name with a newline", func(a *App) { a.Settings = map[string]string{"a\nb": "x"} }, "settings.a\nb"},
		{"secret not UTF-8", func(a *App) { a.Secrets = map[string]string{"key": "\xff"} }, "secrets.key"},
		{"previous setting too long", func(a *App) { a.PreviousSettings = map[string]string{"k": strings.Repeat("x", 65<<10)} }, "previousSettings.k"},
	}
	s := openTest(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := testApp("web")
			c.tune(&a)
			err := s.PutApp(a)
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("got %q, want it to name the field %q", err, c.field)
			}
		})
	}
	if apps, err := s.Apps(); err != nil || len(apps) != 0 {
		t.Errorf("got %d apps (%v) after refused writes, want none", len(apps), err)
	}
}

func TestPutAppNamesEveryBadField(t *testing.T) {
	s := openTest(t, Options{})
	err := s.PutApp(App{ID: "X", Wanted: "maybe"})
	for _, field := range []string{"id:", "version:", "manifest:", "wanted:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("got %v, want it to name %q", err, field)
		}
	}
}

func TestPutAppManagesGenerationAndTimes(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	steps := []struct {
		name          string
		tune          func(*App)
		wantGen       uint64
		wantUpdated   time.Time
		wantInstalled time.Time
		wantWrite     bool
	}{
		{"install", func(a *App) {}, 1, t0, t0, true},
		{"same again", func(a *App) {}, 1, t0, t0, false},
		{"caller's generation is ignored", func(a *App) { a.Generation = 42 }, 1, t0, t0, false},
		{"caller's updated is ignored", func(a *App) { a.Updated = t0.Add(time.Hour) }, 1, t0, t0, false},
		{"stop", func(a *App) { a.Wanted = WantStopped }, 2, t0.Add(4 * time.Minute), t0, true},
		{"a setting", func(a *App) { a.Wanted = WantStopped; a.Settings["title"] = "Other" }, 3, t0.Add(5 * time.Minute), t0, true},
		{"same setting", func(a *App) { a.Wanted = WantStopped; a.Settings["title"] = "Other" }, 3, t0.Add(5 * time.Minute), t0, false},
		{"installed given", func(a *App) {
			a.Wanted = WantStopped
			a.Settings["title"] = "Other"
			a.Installed = t0.Add(-time.Hour)
		}, 4, t0.Add(7 * time.Minute), t0.Add(-time.Hour), true},
	}
	for _, st := range steps {
		before := writes(s)
		a := testApp("web")
		st.tune(&a)
		if err := s.PutApp(a); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.App("web")
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Generation != st.wantGen {
			t.Errorf("%s: got generation %d, want %d", st.name, got.Generation, st.wantGen)
		}
		if !got.Updated.Equal(st.wantUpdated) {
			t.Errorf("%s: got updated %v, want %v", st.name, got.Updated, st.wantUpdated)
		}
		if !got.Installed.Equal(st.wantInstalled) {
			t.Errorf("%s: got installed %v, want %v", st.name, got.Installed, st.wantInstalled)
		}
		if wrote := writes(s) > before; wrote != st.wantWrite {
			t.Errorf("%s: got a file write %v, want %v", st.name, wrote, st.wantWrite)
		}
		clk.Advance(time.Minute)
	}
}

func TestAppsReadBack(t *testing.T) {
	s := openTest(t, Options{})
	want := []App{testApp("db"), testApp("web"), testApp("wiki")}
	for _, id := range []string{"wiki", "db", "web"} {
		if err := s.PutApp(testApp(id)); err != nil {
			t.Fatal(err)
		}
	}
	// Written in the order wiki, db, web: generations 1, 2, 3.
	for i, gen := range []uint64{2, 3, 1} {
		want[i].Generation, want[i].Installed, want[i].Updated = gen, t0, t0
	}
	got, err := s.Apps()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("Apps (-want +got):\n%s", diff)
	}
	one, err := s.App("web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[1], one, equateEmpty); diff != "" {
		t.Errorf("App (-want +got):\n%s", diff)
	}
}

func TestAppLookups(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.PutApp(testApp("web")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"get missing", func() error { _, err := s.App("nope"); return err }, ErrNotFound},
		{"get bad id", func() error { _, err := s.App("../x"); return err }, ErrInvalid},
		{"delete missing", func() error { return s.DeleteApp("nope") }, ErrNotFound},
		{"delete bad id", func() error { return s.DeleteApp("") }, ErrInvalid},
		{"delete", func() error { return s.DeleteApp("web") }, nil},
		{"get deleted", func() error { _, err := s.App("web"); return err }, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestGenerationNeverRepeats(t *testing.T) {
	s := openTest(t, Options{})
	var last uint64
	bump := func(what string, a App) {
		t.Helper()
		if err := s.PutApp(a); err != nil {
			t.Fatal(err)
		}
		got, err := s.App(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Generation <= last {
			t.Errorf("%s: got generation %d, want more than %d", what, got.Generation, last)
		}
		last = got.Generation
	}
	for range 2 {
		a := testApp("web")
		bump("install web", a)
		bump("install db", testApp("db"))
		a.Wanted = WantStopped
		bump("stop web", a)
		if err := s.DeleteApp("web"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteApp("db"); err != nil {
			t.Fatal(err)
		}
	}
}
