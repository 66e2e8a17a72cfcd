// Package web serves the wizard and the launcher. It declares the Backend it
// needs and never imports the agent, containerd or the state store.
package web
