package state

import (
	"errors"
	"fmt"
	"time"
)

// setupKey is the one key of bucket setup.
var setupKey = []byte("wizard")

// Setup is the first-boot wizard's record (bucket setup, key "wizard"): the
// setup code while the box is unclaimed, the hashes of the setup tokens it
// handed out, and the answers so far, so that a reload or a reboot
// resumes. Credentials are the DNS provider's secrets: never shown again.
type Setup struct {
	Claimed   bool      `json:"claimed,omitempty"`
	ClaimedAt time.Time `json:"claimedAt,omitzero"`
	// Code is the setup code shown on the console; "" once void.
	Code string `json:"code,omitempty"`
	// Tokens are hex SHA-256 hashes of the setup tokens, newest last.
	Tokens []string `json:"tokens,omitempty"`
	// Owner and OwnerHash are the owner's account, made at the claim.
	Owner     string `json:"owner,omitempty"`
	OwnerHash string `json:"ownerHash,omitempty"`
	BoxName   string `json:"boxName,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
	Access    string `json:"access,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Provider  string `json:"provider,omitempty"`
	// Credentials are the DNS provider's secrets.
	Credentials map[string]string `json:"credentials,omitempty"`
	// AppsChosen is set once the apps step was answered (Apps may be empty).
	AppsChosen bool     `json:"appsChosen,omitempty"`
	Apps       []string `json:"apps,omitempty"`
	// Operations are the installs started at the claim.
	Operations []string `json:"operations,omitempty"`
	// Followed is set once what follows the claim (the installs, the DNS
	// settings) was started: a crash before that resumes it at the next
	// start.
	Followed bool `json:"followed,omitempty"`
}

// Setup returns the wizard's record; a box that never started the wizard
// (or was reset) has the zero Setup.
func (tx *Tx) Setup() (Setup, error) {
	var s Setup
	if _, err := tx.get(bucketSetup, setupKey, &s); err != nil {
		return Setup{}, err
	}
	return s, nil
}

// PutSetup replaces the wizard's record after validating it.
func (tx *Tx) PutSetup(s Setup) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateSetup(s); err != nil {
		return err
	}
	return tx.put(bucketSetup, setupKey, s)
}

// DeleteSetup forgets the wizard's record.
func (tx *Tx) DeleteSetup() error {
	if err := tx.writable(); err != nil {
		return err
	}
	_, err := tx.del(bucketSetup, setupKey)
	return err
}

// Setup returns the wizard's record (see Tx.Setup).
func (s *Store) Setup() (Setup, error) {
	var out Setup
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Setup()
		return err
	})
	return out, err
}

// clear deletes every record of a bucket.
func (tx *Tx) clear(bucket []byte) error {
	if err := tx.writable(); err != nil {
		return err
	}
	b, err := tx.bucket(bucket)
	if err != nil {
		return err
	}
	var keys [][]byte
	if err := b.ForEach(func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete %s/%s: %w", bucket, printable(k), err)
		}
		tx.changed = true
	}
	return nil
}

// maxSetupTokens bounds how many setup tokens are valid at once.
const maxSetupTokens = 8

func validateSetup(s Setup) error {
	errs := []error{checkWord("code", s.Code, 64, false), checkText("boxName", s.BoxName, 63, false),
		checkText("timezone", s.Timezone, 128, false), checkWord("access", s.Access, 16, false),
		checkText("domain", s.Domain, 253, false), checkWord("provider", s.Provider, 64, false),
		checkWord("ownerHash", s.OwnerHash, 256, false)}
	if s.Owner != "" {
		errs = append(errs, checkUserName("owner", s.Owner))
	}
	if len(s.Tokens) > maxSetupTokens {
		errs = append(errs, &FieldError{Field: "tokens", Reason: fmt.Sprintf("more than %d", maxSetupTokens)})
	}
	for i, t := range s.Tokens {
		errs = append(errs, checkHash(fmt.Sprintf("tokens[%d]", i), t))
	}
	for i, a := range s.Apps {
		errs = append(errs, checkSlug(fmt.Sprintf("apps[%d]", i), a))
	}
	for i, op := range s.Operations {
		errs = append(errs, checkOpID(fmt.Sprintf("operations[%d]", i), op))
	}
	errs = append(errs, checkMap("credentials", s.Credentials)...)
	return errors.Join(errs...)
}
