package duckdns_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/hearthbox/hearth/ddns/provider/duckdns"
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
			p := &duckdns.Provider{Token: "0123abcd-0123-4567-89ab-0123456789ab", Domain: "myhome", BaseURL: srv.URL}
			got, err := p.SetRecords(t.Context(), "myhome.duckdns.org.", []libdns.Record{libdns.Address{Name: "@", IP: netip.MustParseAddr("192.0.2.1")}})
			if err == nil || !strings.HasPrefix(err.Error(), "duckdns: ") {
				t.Errorf("got %v, %v; want an error from duckdns", got, err)
			}
		})
	}
}
