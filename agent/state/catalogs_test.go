package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPutCatalogRefusesInvalidRecords(t *testing.T) {
	cases := []struct {
		name  string
		tune  func(*CatalogRecord)
		field string
	}{
		{"bad id", func(c *CatalogRecord) { c.ID = "my catalog" }, "id"},
		{"relative url", func(c *CatalogRecord) { c.URL = "catalog.json" }, "url"},
		{"ftp url", func(c *CatalogRecord) { c.URL = "ftp://example.org/c.json" }, "url"},
		{"official and third-party", func(c *CatalogRecord) { c.Official, c.ThirdParty = true, true }, "thirdParty"},
		{"no keys", func(c *CatalogRecord) { c.Keys = nil }, "keys"},
		{"key without id", func(c *CatalogRecord) { c.Keys[0].ID = "" }, "keys[0].id"},
		{"short key", func(c *CatalogRecord) { c.Keys[0].Public = []byte{1, 2, 3} }, "keys[0].public"},
		{"key listed twice", func(c *CatalogRecord) { c.Keys = append(c.Keys, c.Keys[0]) }, "keys[1].id"},
		{"title with a newline", func(c *CatalogRecord) { c.Title = "a\nb" }, "title"},
		{"digest with a space", func(c *CatalogRecord) { c.Digest = "sha256 abc" }, "digest"},
	}
	s := openTest(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := testCatalog("official")
			c.tune(&rec)
			err := s.PutCatalog(rec)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("got %v, want ErrInvalid naming %q", err, c.field)
			}
		})
	}
}

func TestCatalogs(t *testing.T) {
	s := openTest(t, Options{})
	official, third := testCatalog("official"), testCatalog("friends")
	third.ThirdParty = true
	for _, c := range []CatalogRecord{official, third} {
		if err := s.PutCatalog(c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]CatalogRecord{third, official}, got, equateEmpty); diff != "" {
		t.Errorf("Catalogs (-want +got):\n%s", diff)
	}

	before := writes(s)
	if err := s.PutCatalog(official); err != nil {
		t.Fatal(err)
	}
	if writes(s) != before {
		t.Error("got a file write for an unchanged catalog, want none")
	}
	official.LastRefresh, official.LastError = t0, strings.Repeat("x", 2*MaxText)
	if err := s.PutCatalog(official); err != nil {
		t.Fatal(err)
	}
	if writes(s) == before {
		t.Error("got no file write for a changed catalog")
	}
	one, err := s.Catalog("official")
	if err != nil {
		t.Fatal(err)
	}
	if !one.LastRefresh.Equal(t0) || len(one.LastError) != MaxText {
		t.Errorf("got last refresh %v and an error of %d bytes, want %v and %d bytes", one.LastRefresh, len(one.LastError), t0, MaxText)
	}

	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"get missing", func() error { _, err := s.Catalog("nope"); return err }, ErrNotFound},
		{"get bad id", func() error { _, err := s.Catalog("a/b"); return err }, ErrInvalid},
		{"delete", func() error { return s.DeleteCatalog("friends") }, nil},
		{"delete again", func() error { return s.DeleteCatalog("friends") }, ErrNotFound},
		{"get deleted", func() error { _, err := s.Catalog("friends"); return err }, ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}
