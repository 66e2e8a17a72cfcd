package state

import "fmt"

// Catalog returns the catalog with that id, or ErrNotFound.
func (tx *Tx) Catalog(id string) (CatalogRecord, error) {
	if err := checkSlug("id", id); err != nil {
		return CatalogRecord{}, err
	}
	var c CatalogRecord
	ok, err := tx.get(bucketCatalogs, []byte(id), &c)
	if err != nil {
		return CatalogRecord{}, err
	}
	if !ok {
		return CatalogRecord{}, fmt.Errorf("catalog %q: %w", id, ErrNotFound)
	}
	return c, nil
}

// Catalogs returns every catalog, ordered by id.
func (tx *Tx) Catalogs() ([]CatalogRecord, error) {
	b, err := tx.bucket(bucketCatalogs)
	if err != nil {
		return nil, err
	}
	var out []CatalogRecord
	err = b.ForEach(func(k, v []byte) error {
		var c CatalogRecord
		if err := decode(v, &c); err != nil {
			return fmt.Errorf("catalogs/%s: %w", k, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// PutCatalog creates or replaces a catalog after validating it; LastError
// is cut to MaxText bytes. Nothing is written when nothing changed.
func (tx *Tx) PutCatalog(c CatalogRecord) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateCatalog(c); err != nil {
		return err
	}
	c.LastError = truncate(c.LastError)
	return tx.put(bucketCatalogs, []byte(c.ID), c)
}

// DeleteCatalog deletes a catalog, or fails with ErrNotFound.
func (tx *Tx) DeleteCatalog(id string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := checkSlug("id", id); err != nil {
		return err
	}
	ok, err := tx.del(bucketCatalogs, []byte(id))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("catalog %q: %w", id, ErrNotFound)
	}
	return nil
}

// Catalog returns the catalog with that id, or ErrNotFound.
func (s *Store) Catalog(id string) (CatalogRecord, error) {
	var c CatalogRecord
	err := s.View(func(tx *Tx) error {
		var err error
		c, err = tx.Catalog(id)
		return err
	})
	return c, err
}

// Catalogs returns every catalog, ordered by id.
func (s *Store) Catalogs() ([]CatalogRecord, error) {
	var out []CatalogRecord
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Catalogs()
		return err
	})
	return out, err
}

// PutCatalog is Tx.PutCatalog in a transaction of its own.
func (s *Store) PutCatalog(c CatalogRecord) error {
	return s.Update(func(tx *Tx) error { return tx.PutCatalog(c) })
}

// DeleteCatalog is Tx.DeleteCatalog in a transaction of its own.
func (s *Store) DeleteCatalog(id string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteCatalog(id) })
}
