package agent

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/manifest"
)

func TestWithAddonEnv(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env, addon []string
		want       []string
	}{
		{"no addons", []string{"A=1"}, nil, []string{"A=1"}},
		{"appended", []string{"A=1"}, []string{"REDIS_URL=redis://x"}, []string{"A=1", "REDIS_URL=redis://x"}},
		{"the manifest cannot shadow an addon", []string{"POSTGRESQL_PASSWORD=mine", "A=1"}, []string{"POSTGRESQL_PASSWORD=real"}, []string{"A=1", "POSTGRESQL_PASSWORD=real"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, withAddonEnv(tc.env, tc.addon)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddonKinds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addons string
		want   []string
	}{
		{"none", `{}`, nil},
		{"not provisioned kinds", `{"localstorage": {}, "oidc": {"loginRedirectPath": "/cb"}}`, nil},
		{"all", `{"redis": {}, "postgresql": {}, "sendmail": {}, "mysql": {"version": "10"}}`, []string{"mysql", "postgresql", "redis", "sendmail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m manifest.Manifest
			if err := json.Unmarshal([]byte(tc.addons), &m.Addons); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, addonKinds(&m)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
