package proxy_test

import (
	"github.com/hearthbox/hearth/proxy"
	"github.com/hearthbox/hearth/proxy/certs"
)

// The certificate manager is what cmd/hearthd hands the proxy.
var _ proxy.Certs = (*certs.Manager)(nil)
