// Package addons provides the platform services an app's manifest asks for
// (docs/addons.md): PostgreSQL, MariaDB (the mysql addon) and Redis as host
// services that Hearth runs itself from Debian's packages, one instance per
// kind, and a small SMTP relay for the sendmail addon.
//
// For each kind there is a Server, which initialises the data folder,
// starts the daemon as the package's system user, waits until it answers
// and restarts it with backoff when it exits, and a Provisioner, which
// gives each app its own database (or key prefix) and user, reachable only
// from the app's subnet, dumps and restores an app's data, and computes the
// environment variables that hand the credentials to the app.
//
// Only package agent imports it. It knows app ids and subnets, not the app
// records: passwords are chosen and stored by the agent and passed in.
package addons
