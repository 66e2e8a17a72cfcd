// Package compose imports compose projects (plain compose files and the app
// stores built on them: CasaOS, Umbrel, Runtipi, Co-op Cloud) into Hearth's
// app model, a manifest.Manifest, once, at import. It is pure: it reads the
// project's folder and never runs anything. Only the agent imports it.
//
// What is mapped, approximated, asked for as a permission or refused is
// written down in docs/compose.md; keep the two in step.
package compose
