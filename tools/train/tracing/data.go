// Package tracing is the knowledge-tracing recipe of edgetrain
// (`edgetrain fit --task tracing`): answer logs of students (student,
// skill, correct[, order][, split]) read into per-student sequences;
// Deep Knowledge Tracing (Piech et al. 2015: an LSTM over the answers,
// a sigmoid per skill for the next answer) trained with the loss on the
// next answer's skill only, long sequences cut into training windows
// whose state restarts at zero; the per-skill mean and BKT baselines on
// the same split; and the field's figures (ROC AUC, accuracy, RMSE over
// every answer at position ≥ 1, predicted from the answers before it,
// the state carried through the whole sequence) through the device
// engine.
//
// The exported model keeps the LSTM's state as graph inputs and outputs
// (see Export), so a device runs it one answer at a time and holds a
// learner's state between calls.
package tracing

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/tools/internal/datafile"
)

// Columns names the columns of an answer log. Student, Skill and Correct
// are required; Order (the position of the answer in the student's
// sequence) and Split ("train"/"test") are optional ("" when absent).
type Columns struct {
	Student, Skill, Correct, Order, Split string
}

// DefaultColumns are the bundled ASSISTments file's.
var DefaultColumns = Columns{Student: "student", Skill: "skill", Correct: "correct", Order: "step", Split: "split"}

// MaxSkill bounds a skill id.
const MaxSkill = 1 << 20

// Sequence is one student's answers in order.
type Sequence struct {
	Student string
	Skills  []int32
	Correct []bool
	// Test is true when the student's rows say split "test" (every row of
	// a student must say the same).
	Test bool
}

// Len is the number of answers.
func (s *Sequence) Len() int { return len(s.Skills) }

// Data is an answer log read into sequences.
type Data struct {
	Seqs   []Sequence // in order of each student's first row
	Skills int        // 1 + the largest skill id
	Rows   int
	// HasSplit and HasOrder say whether the log had the split and the
	// order column.
	HasSplit, HasOrder bool
}

// Read reads an answer log: CSV with a header, plain, gzip (.gz) or
// zstd (.zst) by the file's extension. Rows are grouped by student in
// order of first appearance; within a student they keep the file's order,
// or are sorted by cols.Order when it is set (ties keep the file's order).
// A skill that is not an integer from 0 to MaxSkill, a correct value that
// is not 0/1 (or true/false), a split value other than train/test, or a
// student whose rows disagree on the split is an error naming the line.
func Read(path string, cols Columns) (*Data, error) {
	r, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d, err := read(r, cols)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

type row struct {
	order int64
	skill int32
	ok    bool
}

func read(r io.Reader, cols Columns) (*Data, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file (want a header)")
	}
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, h := range hdr {
		idx[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	col := func(name string, required bool) (int, error) {
		if name == "" {
			return -1, nil
		}
		i, ok := idx[name]
		if !ok && required {
			return 0, fmt.Errorf("no column %q in the header (%s)", name, strings.Join(hdr, ","))
		}
		if !ok {
			return -1, nil
		}
		return i, nil
	}
	var cStu, cSkill, cOK, cOrd, cSplit int
	if cStu, err = col(cols.Student, true); err == nil {
		if cSkill, err = col(cols.Skill, true); err == nil {
			if cOK, err = col(cols.Correct, true); err == nil {
				if cOrd, err = col(cols.Order, false); err == nil {
					cSplit, err = col(cols.Split, false)
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	d := &Data{HasSplit: cSplit >= 0, HasOrder: cOrd >= 0}
	rows := map[string][]row{}
	split := map[string]string{}
	var order []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		stu := get(cStu)
		if stu == "" {
			return nil, fmt.Errorf("line %d: empty %s", line, cols.Student)
		}
		sk, err := strconv.Atoi(get(cSkill))
		if err != nil || sk < 0 || sk > MaxSkill {
			return nil, fmt.Errorf("line %d: %s %q: want an integer from 0 to %d", line, cols.Skill, get(cSkill), MaxSkill)
		}
		var ok bool
		switch get(cOK) {
		case "1", "true", "True", "TRUE":
			ok = true
		case "0", "false", "False", "FALSE":
		default:
			return nil, fmt.Errorf("line %d: %s %q: want 0 or 1", line, cols.Correct, get(cOK))
		}
		var ord int64
		if cOrd >= 0 {
			if ord, err = strconv.ParseInt(get(cOrd), 10, 64); err != nil {
				return nil, fmt.Errorf("line %d: %s %q: want an integer", line, cols.Order, get(cOrd))
			}
		}
		if cSplit >= 0 {
			sp := get(cSplit)
			if sp != "train" && sp != "test" {
				return nil, fmt.Errorf("line %d: %s %q: want train or test", line, cols.Split, sp)
			}
			if prev, seen := split[stu]; seen && prev != sp {
				return nil, fmt.Errorf("line %d: student %q is in both the %s and the %s split", line, stu, prev, sp)
			}
			split[stu] = sp
		}
		if _, seen := rows[stu]; !seen {
			order = append(order, stu)
		}
		rows[stu] = append(rows[stu], row{order: ord, skill: int32(sk), ok: ok})
		d.Skills = max(d.Skills, sk+1)
		d.Rows++
	}
	if d.Rows == 0 {
		return nil, errors.New("no answers")
	}
	for _, stu := range order {
		rs := rows[stu]
		if cOrd >= 0 {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].order < rs[j].order })
		}
		s := Sequence{Student: stu, Skills: make([]int32, len(rs)), Correct: make([]bool, len(rs)), Test: split[stu] == "test"}
		for i, r := range rs {
			s.Skills[i], s.Correct[i] = r.skill, r.ok
		}
		d.Seqs = append(d.Seqs, s)
	}
	return d, nil
}

// SkillMean is the per-skill mean baseline: each skill's share of correct
// answers in the training sequences (the overall share for a skill never
// seen in training).
type SkillMean struct {
	Mean []float64
}

// FitSkillMean fits the baseline on the sequences train says are
// training data.
func FitSkillMean(d *Data, train func(*Sequence) bool) *SkillMean {
	ok, n := make([]float64, d.Skills), make([]float64, d.Skills)
	var tok, tn float64
	for i := range d.Seqs {
		s := &d.Seqs[i]
		if !train(s) {
			continue
		}
		for j, sk := range s.Skills {
			n[sk]++
			tn++
			if s.Correct[j] {
				ok[sk]++
				tok++
			}
		}
	}
	m := &SkillMean{Mean: make([]float64, d.Skills)}
	all := 0.5
	if tn > 0 {
		all = tok / tn
	}
	for k := range m.Mean {
		m.Mean[k] = all
		if n[k] > 0 {
			m.Mean[k] = ok[k] / n[k]
		}
	}
	return m
}

// Predictions are (probability, outcome) pairs of scored answers: every
// answer at position ≥ 1 of the sequences scored, predicted from what came
// before.
type Predictions struct {
	P []float64
	Y []float64
}

// Predict scores the sequences sel says are scored with the baseline.
func (m *SkillMean) Predict(d *Data, sel func(*Sequence) bool) Predictions {
	var p Predictions
	for i := range d.Seqs {
		s := &d.Seqs[i]
		if !sel(s) {
			continue
		}
		for j := 1; j < s.Len(); j++ {
			y := 0.0
			if s.Correct[j] {
				y = 1
			}
			p.P = append(p.P, m.Mean[s.Skills[j]])
			p.Y = append(p.Y, y)
		}
	}
	return p
}
