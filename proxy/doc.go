// Package proxy serves ports 80 and 443 and the stable per-route TLS ports,
// and forwards each request by host name (or by port) to an upstream given in
// a Route. It knows nothing of apps: the agent describes what to serve with
// Apply, and certificates come from a Certs implementation (package
// proxy/certs). Only cmd/hearthd and the agent's wiring import it.
//
// Trust rule: nothing a client sends decides trust. Forwarding headers are
// set from the connection, the client's own are removed, and protected routes
// pass only with the proxy's own per-route cookie, set after Hearth's sign-in
// handed the browser over (auth.go, Config.Sessions).
package proxy
