package apitest

import (
	"context"
	"maps"
	"slices"

	"github.com/hearthbox/hearth/agent/api"
)

// DDNSStatus implements api.ReachService: it returns Fake.DDNS.
func (f *Fake) DDNSStatus(ctx context.Context) (api.DDNSStatus, error) {
	if err := f.record(ctx, "DDNSStatus"); err != nil {
		return api.DDNSStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.DDNS, nil
}

// SetDDNS implements api.ReachService: it takes the request's settings
// into Fake.DDNS (credentials as their keys only, as the agent shows them)
// and returns it.
func (f *Fake) SetDDNS(ctx context.Context, req api.SetDDNSRequest) (api.DDNSStatus, error) {
	if err := f.record(ctx, "SetDDNS", req); err != nil {
		return api.DDNSStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := f.DDNS.Settings.CredentialKeys
	if len(req.Credentials) > 0 {
		keys = slices.Sorted(maps.Keys(req.Credentials))
	}
	f.DDNS.Settings = api.DDNSSettings{Enabled: req.Enabled, Provider: req.Provider, Zone: req.Zone, Name: req.Name,
		TTL: req.TTL, CredentialKeys: keys, CheckerURL: req.CheckerURL}
	return f.DDNS, nil
}
