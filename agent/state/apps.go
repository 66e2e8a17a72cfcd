package state

import "fmt"

// App returns the app with that id, or ErrNotFound.
func (tx *Tx) App(id string) (App, error) {
	if err := checkSlug("id", id); err != nil {
		return App{}, err
	}
	var a App
	ok, err := tx.get(bucketApps, []byte(id), &a)
	if err != nil {
		return App{}, err
	}
	if !ok {
		return App{}, fmt.Errorf("app %q: %w", id, ErrNotFound)
	}
	return a, nil
}

// Apps returns every app, ordered by id.
func (tx *Tx) Apps() ([]App, error) {
	b, err := tx.bucket(bucketApps)
	if err != nil {
		return nil, err
	}
	var apps []App
	err = b.ForEach(func(k, v []byte) error {
		var a App
		if err := decode(v, &a); err != nil {
			return fmt.Errorf("apps/%s: %w", k, err)
		}
		apps = append(apps, a)
		return nil
	})
	return apps, err
}

// PutApp creates or replaces an app after validating it. The store manages
// Generation and Updated, and sets Installed when it is zero. When nothing
// else differs from the stored app, nothing is written; otherwise Updated
// becomes now and Generation takes the next value of a counter shared by
// all apps, so it grows on every change and never repeats, not even when
// an app is uninstalled and installed again.
func (tx *Tx) PutApp(a App) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateApp(a); err != nil {
		return err
	}
	a.Generation, a.Updated = 0, zeroTime
	old, err := tx.App(a.ID)
	switch {
	case err == nil:
		a.Generation, a.Updated = old.Generation, old.Updated
		if a.Installed.IsZero() {
			a.Installed = old.Installed
		}
		same, err := tx.same(bucketApps, []byte(a.ID), a)
		if err != nil || same {
			return err
		}
	case isNotFound(err):
	default:
		return err
	}
	b, err := tx.bucket(bucketApps)
	if err != nil {
		return err
	}
	if a.Generation, err = b.NextSequence(); err != nil {
		return fmt.Errorf("app generation: %w", err)
	}
	now := tx.s.clock()
	if a.Installed.IsZero() {
		a.Installed = now
	}
	a.Updated = now
	return tx.put(bucketApps, []byte(a.ID), a)
}

// DeleteApp deletes an app (not its operations, which are history), or
// fails with ErrNotFound.
func (tx *Tx) DeleteApp(id string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := checkSlug("id", id); err != nil {
		return err
	}
	ok, err := tx.del(bucketApps, []byte(id))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("app %q: %w", id, ErrNotFound)
	}
	return nil
}

// App returns the app with that id, or ErrNotFound.
func (s *Store) App(id string) (App, error) {
	var a App
	err := s.View(func(tx *Tx) error {
		var err error
		a, err = tx.App(id)
		return err
	})
	return a, err
}

// Apps returns every app, ordered by id.
func (s *Store) Apps() ([]App, error) {
	var apps []App
	err := s.View(func(tx *Tx) error {
		var err error
		apps, err = tx.Apps()
		return err
	})
	return apps, err
}

// PutApp is Tx.PutApp in a transaction of its own.
func (s *Store) PutApp(a App) error {
	return s.Update(func(tx *Tx) error { return tx.PutApp(a) })
}

// DeleteApp is Tx.DeleteApp in a transaction of its own.
func (s *Store) DeleteApp(id string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteApp(id) })
}
