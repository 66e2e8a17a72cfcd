// Package agent is the only package that knows what an app is: it turns the
// owner's wishes into running containers through the runtime, and keeps every
// decision in its state file. Only cmd imports it.
package agent
