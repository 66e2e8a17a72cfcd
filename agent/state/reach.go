package state

import (
	"errors"
	"fmt"
)

// bucketReach holds the reachability settings: key "ddns" is the DDNS
// record. It came after schema 1 (see addedBuckets).
var bucketReach = []byte("reach")

// ddnsKey is the DDNS record's key in bucket reach.
var ddnsKey = []byte("ddns")

// MaxDDNSTTL is the longest TTL the DDNS record may ask for, in seconds.
const MaxDDNSTTL = 300

// DDNS is the dynamic DNS settings (bucket reach, key "ddns"): which
// provider keeps which name at the box's public address. Credentials are
// the provider's settings and secrets ("token", "api_token", "secret"...):
// stored here, never shown again.
type DDNS struct {
	Enabled bool `json:"enabled,omitempty"`
	// Provider is rfc2136, desec, duckdns or cloudflare.
	Provider string `json:"provider,omitempty"`
	// Zone is the zone at the provider; Name is relative to it ("@" for
	// the apex).
	Zone string `json:"zone,omitempty"`
	Name string `json:"name,omitempty"`
	// TTL in seconds; 0 means the updater's default (300).
	TTL         int               `json:"ttl,omitempty"`
	Credentials map[string]string `json:"credentials,omitempty"`
	// CheckerURL is an optional outside service that tells whether port
	// 443 answers from the internet.
	CheckerURL string `json:"checkerUrl,omitempty"`
}

// DDNS returns the DDNS settings; the zero DDNS when none were set.
func (tx *Tx) DDNS() (DDNS, error) {
	var d DDNS
	if _, err := tx.get(bucketReach, ddnsKey, &d); err != nil {
		return DDNS{}, err
	}
	return d, nil
}

// PutDDNS replaces the DDNS settings after validating them.
func (tx *Tx) PutDDNS(d DDNS) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateDDNS(d); err != nil {
		return err
	}
	return tx.put(bucketReach, ddnsKey, d)
}

// DDNS returns the DDNS settings (see Tx.DDNS).
func (s *Store) DDNS() (DDNS, error) {
	var out DDNS
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.DDNS()
		return err
	})
	return out, err
}

// PutDDNS replaces the DDNS settings (see Tx.PutDDNS).
func (s *Store) PutDDNS(d DDNS) error {
	return s.Update(func(tx *Tx) error { return tx.PutDDNS(d) })
}

func validateDDNS(d DDNS) error {
	errs := []error{
		checkWord("zone", d.Zone, 253, d.Enabled),
		checkWord("name", d.Name, 253, d.Enabled),
		checkText("checkerUrl", d.CheckerURL, 2048, false),
	}
	if d.Provider != "" || d.Enabled {
		errs = append(errs, oneOf("provider", d.Provider, "rfc2136", "desec", "duckdns", "cloudflare"))
	}
	if d.TTL < 0 || d.TTL > MaxDDNSTTL {
		errs = append(errs, &FieldError{Field: "ttl", Reason: fmt.Sprintf("%d: want 0 to %d seconds", d.TTL, MaxDDNSTTL)})
	}
	errs = append(errs, checkMap("credentials", d.Credentials)...)
	return errors.Join(errs...)
}
