// Package plugins holds no code: it documents the plugins/ directory.
//
// Each subdirectory plugins/<domain> is one plugin binary (package main,
// plus its own internal/ packages) serving one domain model — sentiment,
// intent, recommendation, diagnosis, fraud, predictive maintenance,
// keyword spotting — as an out-of-process hashicorp/go-plugin plugin. A
// plugin wraps an engine session over its .erm model with the domain's
// pre-processing (tokenizing, feature scaling) and post-processing (labels,
// scores), and speaks the contract defined in package sdk. tools/edgerun
// hosts the plugins; it starts them as separate processes and never links
// them.
//
// Import rules (enforced by make deps-check): a plugin may import sdk,
// sdk/sdkrt, runtime/... and format. Nothing imports plugins/*, and no
// plugin imports another one (a plugin may import its own subpackages).
//
// Status: no plugin exists yet; the first ones arrive after the plugin SDK
// (issue 6).
package plugins
