package api

import "encoding/json"

// RefreshCatalogsRequest is the body of POST /v1/catalogs/refresh.
type RefreshCatalogsRequest struct {
	// ID names the catalog to refresh; "" refreshes all.
	ID string `json:"id,omitempty"`
}

// UpdateRequest is the body of POST /v1/apps/{id}/update.
type UpdateRequest struct {
	// Version is the catalog version to update to; "" = the latest.
	Version string `json:"version,omitempty"`
	// Manifest, instead of Version, updates an app installed from no
	// catalog to this manifest.
	Manifest json.RawMessage `json:"manifest,omitempty"`
}
