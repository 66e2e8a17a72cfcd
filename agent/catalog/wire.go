package catalog

import (
	"encoding/json"
	"time"
)

// The JSON forms. The envelope is what is served and stored; the payload is
// what is signed. Both are decoded strictly (unknown fields are errors).

// formatVersion is the catalogVersion this package reads and writes.
const formatVersion = 1

type envelopeJSON struct {
	// Payload is the standard base64 of the exact payload bytes.
	Payload    string          `json:"payload"`
	Signatures []signatureJSON `json:"signatures"`
}

type signatureJSON struct {
	KeyID string `json:"keyId"`
	// Sig is the standard base64 of the ed25519 signature of the payload
	// bytes.
	Sig string `json:"sig"`
}

type payloadJSON struct {
	CatalogVersion int       `json:"catalogVersion"`
	ID             string    `json:"id"`
	Title          string    `json:"title"`
	Timestamp      time.Time `json:"timestamp"`
	Expires        time.Time `json:"expires"`
	Apps           []appJSON `json:"apps"`
}

type appJSON struct {
	ID string `json:"id"`
	// Icon is a data: URL (image/svg+xml or image/png, base64) or an https
	// URL.
	Icon     string        `json:"icon,omitempty"`
	Versions []versionJSON `json:"versions"`
}

type versionJSON struct {
	Version      string          `json:"version"`
	Manifest     json.RawMessage `json:"manifest"`
	ReleaseNotes string          `json:"releaseNotes,omitempty"`
	Security     bool            `json:"security,omitempty"`
	Published    time.Time       `json:"published"`
}
