// Package manifest defines Hearth's app manifest: the JSON document that
// describes an app package (identity, services, addons, permissions,
// resources, settings), its strict parser, its validation rules, and the
// small computations every consumer needs (start order, platforms, the web
// entry, setting resolution and the {{...}} templating of environment
// values).
//
// It imports nothing else of Hearth, so that the catalog, the state store,
// the agent and the maintainer tools can all use it. The format is
// documented in docs/manifest.md; keep the two in step.
package manifest
