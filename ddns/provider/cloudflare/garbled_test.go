package cloudflare_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/ddns/provider/cloudflare"
)

// An answer that is not in the API's documented shape (a captive portal's
// page, a proxy's HTML error with status 200) is an error, never an empty
// success.
func TestGarbledAnswer(t *testing.T) {
	tests := []struct {
		name, ctype, body string
	}{
		{"html page", "text/html", "<html><body>Please log in to the hotel Wi-Fi</body></html>"},
		{"truncated JSON", "application/json", "{\"result\": ["},
		{"empty body", "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			p := &cloudflare.Provider{APIToken: "tok", BaseURL: srv.URL}
			got, err := p.GetRecords(t.Context(), "example.com.")
			if err == nil || !strings.HasPrefix(err.Error(), "cloudflare: ") {
				t.Errorf("got %v, %v; want an error from cloudflare", got, err)
			}
		})
	}
}
