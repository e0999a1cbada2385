// Package plugins holds no code: it documents the plugins/ directory.
//
// A plugin is an out-of-process hashicorp/go-plugin binary serving one
// domain model through the contract of package sdk; tools/edgerun hosts
// the plugins, starting them as separate processes and never linking
// them. A plugin wraps its .erm model with the domain's pre-processing
// (tokenizing, feature encoding, windows) and post-processing (labels,
// scores), usually through sdk/sdkrt.
//
// plugins/builtin holds the built-in ones — sentiment, intent, recommend,
// diagnose, risk, maintenance, kws, tutor — one package per domain with its
// embedded model, one binary per domain under plugins/builtin/cmd, and
// plugins/builtin/cmd/edgerun-plugins with all eight in one binary.
//
// Import rules (enforced by make deps-check): a plugin may import sdk,
// sdk/sdkrt, runtime/... and format. Nothing imports plugins/*, and no
// plugin imports another one (a plugin may import its own subpackages:
// which is why the eight domains share plugins/builtin).
package plugins
