package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/internal/datafile"
)

// tutorCmd is `edgerun tutor`: a learner's answers replayed one at a time
// through a knowledge-tracing model, as a tutoring device runs them.
type tutorCmd struct {
	Model       string   `name:"model" required:"" placeholder:"TUTOR.erm" help:"Knowledge-tracing model (edgetrain fit --task tracing)."`
	Data        string   `name:"data" required:"" placeholder:"ANSWERS.csv" help:"Answer log with a header (plain, .gz or .zst)."`
	Student     string   `name:"student" required:"" placeholder:"ID" help:"The learner whose answers to replay."`
	StudentCol  string   `name:"student-col" default:"student" placeholder:"COL" help:"Student column."`
	SkillCol    string   `name:"skill-col" default:"skill" placeholder:"COL" help:"Skill column (integer ids from 0)."`
	CorrectCol  string   `name:"correct-col" default:"correct" placeholder:"COL" help:"Correct column (0/1)."`
	OrderCol    string   `name:"order-col" default:"step" placeholder:"COL" help:"Order of the answers (integers; the file's order when the column is absent)."`
	Max         int      `name:"max" default:"30" placeholder:"N" help:"Replay at most N answers (0: all)."`
	Target      float64  `name:"target" default:"0.7" help:"Recommend the skill whose predicted success is closest to this, among skills not mastered."`
	Mastered    float64  `name:"mastered" default:"0.95" help:"Predicted success at which a skill counts as mastered."`
	Prereq      string   `name:"prerequisites" placeholder:"RULES" help:"Prerequisites, e.g. \"5:1,2;7:5\" (skill 5 needs 1 and 2 mastered, 7 needs 5)."`
	JSON        bool     `name:"json" help:"One JSON line per answer instead of the table."`
	TrustedKeys []string `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Refuse the model unless it is signed by this public key; repeat for several."`
}

// Help is the detailed help of `edgerun tutor --help`.
func (c *tutorCmd) Help() string {
	return `Replays one learner's answers from an answer log through a knowledge-tracing model, one
answer at a time from the learner's saved state (as the tutor plugin runs them), and prints
for each answer the probability the model gave it beforehand, the mastery of the skills the
learner has touched, and the skill recommended next.

  edgerun tutor --model tutor.erm --data answers.csv.zst --student 3361

The rule: among skills not mastered (predicted success below --mastered) whose prerequisites
are all mastered, the one whose predicted success is closest to --target (ties: the lowest
id); when every skill is mastered, the least mastered one.`
}

// tutorLine is one answer of the JSON output. Field names are part of
// the CLI's contract.
type tutorLine struct {
	Answer      int                `json:"answer"`
	Skill       int                `json:"skill"`
	Correct     bool               `json:"correct"`
	Predicted   float32            `json:"predicted"`
	Mastery     map[string]float32 `json:"mastery"`
	Recommended int                `json:"recommended"`
	RecommendP  float32            `json:"recommended_p"`
}

func (c *tutorCmd) Run(env *cliutil.Env) error {
	if c.Max < 0 || !(c.Target > 0 && c.Target < 1) || !(c.Mastered > 0 && c.Mastered <= 1) {
		return cliutil.OpError("tutor", c.Model, fmt.Errorf("--max %d, --target %v, --mastered %v: want ≥ 0, (0, 1), (0, 1]", c.Max, c.Target, c.Mastered))
	}
	readOpts, err := trustedKeyOptions(c.TrustedKeys)
	if err != nil {
		return cliutil.OpError("tutor", c.Model, err)
	}
	m, err := engine.LoadFile(c.Model, readOpts...)
	if err != nil {
		return cliutil.OpError("tutor", c.Model, err)
	}
	tr, err := sdkrt.NewTracer(m)
	if err != nil {
		return cliutil.OpError("tutor", c.Model, err)
	}
	defer tr.Close()
	rule, err := sdkrt.NewSkillRule(tr.Skills(), float32(c.Target), float32(c.Mastered), c.Prereq)
	if err != nil {
		return cliutil.OpError("tutor", c.Model, err)
	}
	answers, err := c.read()
	if err != nil {
		return cliutil.OpError("tutor", c.Data, err)
	}
	if len(answers) == 0 {
		return cliutil.OpError("tutor", c.Data, fmt.Errorf("no answers of student %q", c.Student))
	}
	if c.Max > 0 && len(answers) > c.Max {
		answers = answers[:c.Max]
	}
	st := tr.NewState()
	mastery := st.Mastery()
	touched := map[int]bool{}
	var order []int
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	if !c.JSON {
		fmt.Fprintf(w, "learner %s: %d answers; %d skills, state %d bytes\n", c.Student, len(answers), tr.Skills(), tr.StateSize())
		fmt.Fprintf(w, "%4s %6s %3s %9s  %-10s %s\n", "#", "skill", "ok", "predicted", "next", "mastery of the skills touched")
	}
	for i, a := range answers {
		if a.Skill >= tr.Skills() {
			return cliutil.OpError("tutor", c.Data, tr.SkillError(a.Skill))
		}
		pred := float32(0)
		if mastery != nil {
			pred = mastery[a.Skill]
		}
		if mastery, err = tr.Step(st, a.Skill, a.Correct); err != nil {
			return cliutil.OpError("tutor", c.Model, err)
		}
		if !touched[a.Skill] {
			touched[a.Skill] = true
			order = append(order, a.Skill)
			sort.Ints(order)
		}
		next := rule.Next(mastery)
		if c.JSON {
			line := tutorLine{Answer: i + 1, Skill: a.Skill, Correct: a.Correct, Predicted: pred, Mastery: map[string]float32{}, Recommended: next, RecommendP: mastery[next]}
			for _, k := range order {
				line.Mastery[strconv.Itoa(k)] = mastery[k]
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			continue
		}
		ok := "no"
		if a.Correct {
			ok = "yes"
		}
		p := "-"
		if i > 0 {
			p = fmt.Sprintf("%.2f", pred)
		}
		var ms []string
		for _, k := range order {
			ms = append(ms, fmt.Sprintf("%d:%.2f", k, mastery[k]))
		}
		fmt.Fprintf(w, "%4d %6d %3s %9s  %-10s %s\n", i+1, a.Skill, ok, p, fmt.Sprintf("%d (%.2f)", next, mastery[next]), strings.Join(ms, " "))
	}
	return nil
}

// read returns the student's answers in order.
func (c *tutorCmd) read() ([]sdkrt.Answer, error) {
	r, err := datafile.Open(c.Data)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file (want a header)")
		}
		return nil, err
	}
	col := map[string]int{}
	for i, h := range hdr {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	idx := func(name string) (int, error) {
		i, ok := col[name]
		if !ok {
			return 0, fmt.Errorf("no column %q in the header (%s)", name, strings.Join(hdr, ","))
		}
		return i, nil
	}
	cs, err := idx(c.StudentCol)
	if err != nil {
		return nil, err
	}
	ck, err := idx(c.SkillCol)
	if err != nil {
		return nil, err
	}
	cc, err := idx(c.CorrectCol)
	if err != nil {
		return nil, err
	}
	co, hasOrder := col[c.OrderCol]
	type row struct {
		order int64
		a     sdkrt.Answer
	}
	var rows []row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(rec[cs]) != c.Student {
			continue
		}
		sk, err := strconv.Atoi(strings.TrimSpace(rec[ck]))
		if err != nil || sk < 0 {
			return nil, fmt.Errorf("line %d: %s %q: want a skill id ≥ 0", line, c.SkillCol, rec[ck])
		}
		var ok bool
		switch strings.TrimSpace(rec[cc]) {
		case "1", "true":
			ok = true
		case "0", "false":
		default:
			return nil, fmt.Errorf("line %d: %s %q: want 0 or 1", line, c.CorrectCol, rec[cc])
		}
		r := row{order: int64(len(rows)), a: sdkrt.Answer{Skill: sk, Correct: ok}}
		if hasOrder {
			if r.order, err = strconv.ParseInt(strings.TrimSpace(rec[co]), 10, 64); err != nil {
				return nil, fmt.Errorf("line %d: %s %q: want an integer", line, c.OrderCol, rec[co])
			}
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].order < rows[j].order })
	out := make([]sdkrt.Answer, len(rows))
	for i, r := range rows {
		out[i] = r.a
	}
	return out, nil
}
