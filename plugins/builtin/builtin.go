// Package builtin is edgerun's built-in plugins: eight domain models, each
// trained on bundled data and embedded in its package (model.erm), served
// through sdk/sdkrt.
//
//	sentiment    English review text → good/bad with probabilities
//	intent       banking customer query → top-k of 77 intents
//	recommend    MovieLens user id → top-k movies; movie id → similar movies (non-commercial licence)
//	diagnose     30 breast-mass measurements → benign/malignant probabilities
//	risk         loan application features → risk score, approve/decline at a threshold
//	maintenance  sensor window → normal/anomaly, score, condition (synthetic training data)
//	kws          audio (a clip, or a stream in chunks) → the command word heard (synthetic training speech)
//	tutor        a learner's answers (skill, correct) → mastery of every skill, the skill to practise next (research-use data)
//
// Each domain package (plugins/builtin/<domain>) has New() (sdk.Model,
// error); cmd/<domain> is its plugin binary (main is sdk.Serve around it)
// and cmd/edgerun-plugins is one binary with all eight, the domain chosen by
// its first argument, $EDGERUN_DOMAIN or the name it is run by (a symlink
// named like a domain). `make models` retrains the models (same seed,
// same bytes); `make plugins` builds the binaries into bin/plugins/.
//
// The domains live under one directory because make deps-check lets a
// plugin import only its own subpackages: the multi-plugin binary can
// import all eight only from inside plugins/builtin.
package builtin

import (
	"fmt"
	"slices"

	"github.com/edgerun/edgerun/plugins/builtin/diagnose"
	"github.com/edgerun/edgerun/plugins/builtin/intent"
	"github.com/edgerun/edgerun/plugins/builtin/kws"
	"github.com/edgerun/edgerun/plugins/builtin/maintenance"
	"github.com/edgerun/edgerun/plugins/builtin/recommend"
	"github.com/edgerun/edgerun/plugins/builtin/risk"
	"github.com/edgerun/edgerun/plugins/builtin/sentiment"
	"github.com/edgerun/edgerun/plugins/builtin/tutor"
	"github.com/edgerun/edgerun/sdk"
)

var domains = map[string]func() (sdk.Model, error){
	sentiment.Name:   sentiment.New,
	intent.Name:      intent.New,
	recommend.Name:   recommend.New,
	diagnose.Name:    diagnose.New,
	risk.Name:        risk.New,
	maintenance.Name: maintenance.New,
	kws.Name:         kws.New,
	tutor.Name:       tutor.New,
}

// Domains lists the built-in domains, sorted.
func Domains() []string {
	names := make([]string, 0, len(domains))
	for n := range domains {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New loads the built-in model of a domain.
func New(domain string) (sdk.Model, error) {
	f, ok := domains[domain]
	if !ok {
		return nil, fmt.Errorf("builtin: no domain %q (domains: %v)", domain, Domains())
	}
	return f()
}
