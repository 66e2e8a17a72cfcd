package state

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// bucketAddons holds each app's addon credentials, key <app id>. It came
// after schema 1 (see addedBuckets).
var bucketAddons = []byte("addons")

// AddonKinds are the addons that have credentials.
var addonKinds = []string{"mysql", "postgresql", "redis", "sendmail"}

// AddonSecrets are an app's addon passwords by addon kind ("postgresql",
// "mysql", "redis", "sendmail"). They are given to the app as environment
// variables at every start and never written into its files; rotating one
// replaces it here first, then on the addon server.
type AddonSecrets struct {
	Passwords map[string]string `json:"passwords,omitempty"`
	// Subnet is the app network's subnet the addon users were made for;
	// the app reaches its addons at its gateway (the subnet's first
	// address).
	Subnet netip.Prefix `json:"subnet,omitzero"`
}

// AddonSecrets returns the app's addon passwords, or ErrNotFound.
func (tx *Tx) AddonSecrets(app string) (AddonSecrets, error) {
	if err := checkSlug("app", app); err != nil {
		return AddonSecrets{}, err
	}
	var s AddonSecrets
	ok, err := tx.get(bucketAddons, []byte(app), &s)
	if err != nil {
		return AddonSecrets{}, err
	}
	if !ok {
		return AddonSecrets{}, fmt.Errorf("addon secrets of %s: %w", app, ErrNotFound)
	}
	return s, nil
}

// PutAddonSecrets replaces the app's addon passwords after validating them.
func (tx *Tx) PutAddonSecrets(app string, s AddonSecrets) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateAddonSecrets(app, s); err != nil {
		return err
	}
	return tx.put(bucketAddons, []byte(app), s)
}

// DeleteAddonSecrets forgets the app's addon passwords; none is not an error.
func (tx *Tx) DeleteAddonSecrets(app string) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := checkSlug("app", app); err != nil {
		return err
	}
	_, err := tx.del(bucketAddons, []byte(app))
	return err
}

// AddonSecrets returns the app's addon passwords (see Tx.AddonSecrets).
func (s *Store) AddonSecrets(app string) (AddonSecrets, error) {
	var out AddonSecrets
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.AddonSecrets(app)
		return err
	})
	return out, err
}

// PutAddonSecrets replaces the app's addon passwords (see Tx.PutAddonSecrets).
func (s *Store) PutAddonSecrets(app string, a AddonSecrets) error {
	return s.Update(func(tx *Tx) error { return tx.PutAddonSecrets(app, a) })
}

// DeleteAddonSecrets forgets the app's addon passwords (see Tx.DeleteAddonSecrets).
func (s *Store) DeleteAddonSecrets(app string) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteAddonSecrets(app) })
}

func validateAddonSecrets(app string, s AddonSecrets) error {
	errs := []error{checkSlug("app", app)}
	if s.Subnet.IsValid() && (!s.Subnet.Addr().Is4() || s.Subnet.Masked() != s.Subnet) {
		errs = append(errs, &FieldError{Field: "subnet", Reason: fmt.Sprintf("%s: want an IPv4 prefix without host bits", s.Subnet)})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Passwords)) {
		field := "passwords." + k
		if !slices.Contains(addonKinds, k) {
			errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf("unknown addon; want one of %v", addonKinds)})
			continue
		}
		if !isPassword(s.Passwords[k]) {
			errs = append(errs, &FieldError{Field: field, Reason: "must be 16-128 letters and digits"})
		}
	}
	return errors.Join(errs...)
}

func isPassword(p string) bool {
	if len(p) < 16 || len(p) > 128 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
