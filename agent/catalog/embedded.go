package catalog

import (
	"embed"
	"fmt"
)

// The official catalog as shipped: the signed envelope and the public keys it
// must be signed by. The private key is never in the repository
// (docs/catalog.md).
//
//go:embed official/official.json official/keys.json
var officialFiles embed.FS

// The official source.
const (
	OfficialID    = "official"
	OfficialTitle = "Hearth official catalog"
	// OfficialURL is where boxes refresh the official catalog.
	OfficialURL = "https://catalog.hearthbox.org/v1/official.json"
)

// Embedded returns the official source, with the keys this release trusts,
// and the official catalog's envelope as built into the binary. Load it like
// any other envelope: it is verified the same way.
func Embedded() (Source, []byte, error) {
	keys, err := officialFiles.ReadFile("official/keys.json")
	if err != nil {
		return Source{}, nil, fmt.Errorf("embedded catalog: %w", err)
	}
	trust, err := ParseTrust(keys)
	if err != nil {
		return Source{}, nil, fmt.Errorf("embedded catalog: keys.json: %w", err)
	}
	envelope, err := officialFiles.ReadFile("official/official.json")
	if err != nil {
		return Source{}, nil, fmt.Errorf("embedded catalog: %w", err)
	}
	src := Source{ID: OfficialID, Title: OfficialTitle, URL: OfficialURL, Trust: trust, Official: true}
	return src, envelope, nil
}
