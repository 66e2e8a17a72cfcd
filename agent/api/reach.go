package api

import (
	"context"
	"net/http"
	"time"
)

// ReachService is the part of Service that makes the box reachable: the
// dynamic DNS settings and what the updater, the mDNS responder and the
// reachability check report (docs/reachability.md).
type ReachService interface {
	// DDNSStatus returns the DDNS settings (secrets left out) and the
	// status of the updater, the LAN responder and the last reachability
	// check.
	DDNSStatus(ctx context.Context) (DDNSStatus, error)
	// SetDDNS replaces the DDNS settings and starts (or stops) the updater.
	// Credentials left empty keep the ones the box has.
	SetDDNS(ctx context.Context, req SetDDNSRequest) (DDNSStatus, error)
}

// DDNS providers (DDNSSettings.Provider).
const (
	ProviderRFC2136    = "rfc2136"
	ProviderDeSEC      = "desec"
	ProviderDuckDNS    = "duckdns"
	ProviderCloudflare = "cloudflare"
)

// DDNSSettings are the settings as the API shows them: the credentials'
// keys, never their values.
type DDNSSettings struct {
	Enabled  bool   `json:"enabled"`
	Provider string `json:"provider,omitempty"`
	Zone     string `json:"zone,omitempty"`
	// Name is relative to Zone ("@" for the apex).
	Name string `json:"name,omitempty"`
	// TTL in seconds (at most 300; 0 means 300).
	TTL int `json:"ttl,omitempty"`
	// CredentialKeys name the credentials the box holds ("token").
	CredentialKeys []string `json:"credentialKeys,omitempty"`
	CheckerURL     string   `json:"checkerUrl,omitempty"`
}

// SetDDNSRequest replaces the DDNS settings.
type SetDDNSRequest struct {
	Enabled  bool   `json:"enabled"`
	Provider string `json:"provider"`
	Zone     string `json:"zone"`
	Name     string `json:"name"`
	TTL      int    `json:"ttl,omitempty"`
	// Credentials are the provider's: rfc2136 server, key_name, secret,
	// algorithm; desec token; duckdns token (and domain); cloudflare
	// api_token. Empty keeps the box's.
	Credentials map[string]string `json:"credentials,omitempty"`
	CheckerURL  string            `json:"checkerUrl,omitempty"`
}

// DDNSUpdate is what the updater did last.
type DDNSUpdate struct {
	// FQDN is the name kept, fully qualified.
	FQDN       string    `json:"fqdn,omitempty"`
	IPv4       string    `json:"ipv4,omitempty"`
	IPv6       string    `json:"ipv6,omitempty"`
	LastCheck  time.Time `json:"lastCheck,omitzero"`
	LastUpdate time.Time `json:"lastUpdate,omitzero"`
	Verified   bool      `json:"verified"`
	LastError  string    `json:"lastError,omitempty"`
	Failures   int       `json:"failures,omitempty"`
	NextTry    time.Time `json:"nextTry,omitzero"`
}

// MDNSStatus is what the LAN responder does.
type MDNSStatus struct {
	// State is running, probing, stopped, deferred (avahi answers
	// instead), failed or off.
	State      string   `json:"state"`
	Name       string   `json:"name,omitempty"`
	Interfaces []string `json:"interfaces,omitempty"`
	Detail     string   `json:"detail,omitempty"`
}

// ReachCheck is the last reachability check of the public name.
type ReachCheck struct {
	Checked  time.Time `json:"checked,omitzero"`
	Resolves bool      `json:"resolves"`
	Resolved []string  `json:"resolved,omitempty"`
	// Port443 is unchecked, open, closed or error.
	Port443 string `json:"port443,omitempty"`
}

// DDNSStatus is the reachability page: settings, the updater, the public
// address, the LAN responder, and what the owner can do.
type DDNSStatus struct {
	Settings DDNSSettings `json:"settings"`
	Update   DDNSUpdate   `json:"update"`
	// CGNAT is true when the internet provider's NAT keeps ports closed.
	CGNAT bool        `json:"cgnat,omitempty"`
	MDNS  MDNSStatus  `json:"mdns"`
	Reach *ReachCheck `json:"reach,omitempty"`
	// Advice says, in plain words, what the owner can do.
	Advice []string `json:"advice,omitempty"`
}

// DDNSStatus implements ReachService.
func (c *Client) DDNSStatus(ctx context.Context) (DDNSStatus, error) {
	var s DDNSStatus
	err := c.call(ctx, http.MethodGet, "/v1/ddns", nil, nil, &s)
	return s, err
}

// SetDDNS implements ReachService.
func (c *Client) SetDDNS(ctx context.Context, req SetDDNSRequest) (DDNSStatus, error) {
	var s DDNSStatus
	err := c.call(ctx, http.MethodPut, "/v1/ddns", nil, req, &s)
	return s, err
}
