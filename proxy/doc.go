// Package proxy serves ports 80 and 443, routes requests by name to app
// containers and obtains certificates. It knows nothing of apps.
package proxy
