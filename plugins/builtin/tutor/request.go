package tutor

import (
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// maxPrerequisites bounds the parameter prerequisites, in bytes.
const maxPrerequisites = 1 << 16

// request is a checked request.
type request struct {
	learner string
	answers []sdkrt.Answer
	history bool
	rule    sdkrt.SkillRule
}

// parse checks a request against the description and the model: the
// inputs, their datatypes, shapes and values, and the parameters. Its
// errors match sdk.ErrInvalidInput.
func (m *Model) parse(req *sdk.InferRequest) (*request, error) {
	if len(req.Inputs) == 0 {
		return nil, sdkrt.Invalid("no inputs: send the learner as the BYTES input %q [1] (alone to read the learner's mastery), with new answers as %q and %q [n]",
			InLearner, InSkill, InCorrect)
	}
	var ins [3]*sdk.Tensor // learner, skill, correct
	for i := range req.Inputs {
		t := &req.Inputs[i]
		k := slices.Index([]string{InLearner, InSkill, InCorrect}, t.Name)
		if k < 0 {
			return nil, sdkrt.Invalid("unknown input %q (the plugin takes %q, %q and %q)", t.Name, InLearner, InSkill, InCorrect)
		}
		if ins[k] != nil {
			return nil, sdkrt.Invalid("input %q is given twice", t.Name)
		}
		ins[k] = t
	}
	for _, o := range req.Outputs {
		if o != OutMastery && o != OutRecommended && o != OutAnswers {
			return nil, sdkrt.Invalid("unknown output %q (the plugin has %q, %q and %q)", o, OutMastery, OutRecommended, OutAnswers)
		}
	}
	r := &request{}
	var err error
	if r.learner, err = learnerID(req, ins[0]); err != nil {
		return nil, err
	}
	if r.answers, err = m.answers(ins[1], ins[2]); err != nil {
		return nil, err
	}
	if v, ok := req.Parameters["history"]; ok && strings.TrimSpace(v) != "" {
		if r.history, err = strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			return nil, sdkrt.Invalid("parameter history = %q: want true or false", v)
		}
	}
	if r.history && len(r.answers) == 0 {
		return nil, sdkrt.Invalid("parameter history = true needs the learner's answers (the inputs %q and %q)", InSkill, InCorrect)
	}
	target, err := sdkrt.FloatParam(req, "target", DefaultTarget, 0, 1)
	if err != nil {
		return nil, err
	}
	mastered, err := sdkrt.FloatParam(req, "mastered", DefaultMastered, 0, 1)
	if err != nil {
		return nil, err
	}
	prereq := req.Parameters["prerequisites"]
	if len(prereq) > maxPrerequisites {
		return nil, sdkrt.Invalid("parameter prerequisites of %d bytes: at most %d", len(prereq), maxPrerequisites)
	}
	if r.rule, err = sdkrt.NewSkillRule(m.skills, float32(target), float32(mastered), prereq); err != nil {
		return nil, sdkrt.Invalid("parameters target %g, mastered %g, prerequisites %q: %v", target, mastered, prereq, err)
	}
	return r, nil
}

// learnerID reads the learner from the input t and the parameter.
func learnerID(req *sdk.InferRequest, t *sdk.Tensor) (string, error) {
	param, hasParam := req.Parameters["learner"]
	id := param
	if t != nil {
		if err := sdk.CheckTensor(t, sdk.TensorSpec{Name: InLearner, Datatype: sdk.BYTES, Shape: []int64{1}}); err != nil {
			return "", err
		}
		id = string(t.BYTES[0])
		if hasParam && param != id {
			return "", sdkrt.Invalid("the input %q is %q and the parameter learner %q: give one, or the same", InLearner, id, param)
		}
	} else if !hasParam {
		return "", sdkrt.Invalid("no learner: send the learner's id as the BYTES input %q [1] or the parameter learner", InLearner)
	}
	if id == "" {
		return "", sdkrt.Invalid("the learner id is empty")
	}
	if len(id) > MaxLearnerID {
		return "", sdkrt.Invalid("learner id of %d bytes: at most %d", len(id), MaxLearnerID)
	}
	return id, nil
}

// answers reads the inputs skill and correct (both or neither).
func (m *Model) answers(skill, correct *sdk.Tensor) ([]sdkrt.Answer, error) {
	if skill == nil && correct == nil {
		return nil, nil
	}
	if skill == nil || correct == nil {
		return nil, sdkrt.Invalid("the inputs %q and %q go together: one correct (0/1) per skill", InSkill, InCorrect)
	}
	column := func(t *sdk.Tensor, types ...string) error {
		spec := sdk.TensorSpec{Name: t.Name, Datatype: types[0], Shape: []int64{-1}}
		if slices.Contains(types, t.Datatype) {
			spec.Datatype = t.Datatype
		}
		return sdk.CheckTensor(t, spec)
	}
	if err := column(skill, sdk.INT64, sdk.INT32); err != nil {
		return nil, err
	}
	if err := column(correct, sdk.INT64, sdk.INT32, sdk.BOOL); err != nil {
		return nil, err
	}
	skills, err := sdkrt.Ints(skill)
	if err != nil {
		return nil, err
	}
	n := len(skills)
	if c := correct.Len(); c != n {
		return nil, sdkrt.Invalid("%q has %d answers and %q %d: one correct (0/1) per skill", InSkill, n, InCorrect, c)
	}
	if n > MaxAnswers {
		return nil, sdkrt.Invalid("%d answers in one request: at most %d", n, MaxAnswers)
	}
	var oks []int64
	if correct.Datatype != sdk.BOOL {
		if oks, err = sdkrt.Ints(correct); err != nil {
			return nil, err
		}
	}
	out := make([]sdkrt.Answer, n)
	for i, s := range skills {
		if s < 0 || s >= int64(m.skills) {
			return nil, sdkrt.Invalid("answer %d: skill %d is out of range: the model knows skills 0 to %d", i, s, m.skills-1)
		}
		out[i].Skill = int(s)
		if oks == nil {
			out[i].Correct = correct.BOOL[i]
			continue
		}
		if oks[i] != 0 && oks[i] != 1 {
			return nil, sdkrt.Invalid("answer %d: correct = %d, want 0 or 1", i, oks[i])
		}
		out[i].Correct = oks[i] == 1
	}
	return out, nil
}
