// Package status is the status page of `edgerun serve`, at "/": for the
// person who opens the gateway's address in a browser, every model and
// plugin served (version, platform, kernel, int8 or f32 weights, inputs
// and outputs, state, restarts, requests and p50/p99 latency over the
// last minute) and a "try it" form per model that calls the model's Open
// Inference Protocol infer endpoint and shows the answer with its labels.
//
// The page is plain HTML, CSS and a little JavaScript embedded in the
// binary (go:embed): no build step and no external asset, and a Content Security
// Policy that allows only the server itself. The HTML is rendered on the
// server (html/template escapes every name and label, which come from
// files); the script then refreshes the state from /status/models.json.
package status
