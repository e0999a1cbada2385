package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const tutorModel = "../../plugins/builtin/tutor/model.erm"

// TestTutorReplay: `edgerun tutor` replays a learner's answers in the
// order column's order, one JSON line each; what the model predicted
// for an answer is the mastery of its skill after the answer before;
// clear errors for an unknown learner, a skill the model does not know
// and a missing column.
func TestTutorReplay(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "answers.csv")
	os.WriteFile(data, []byte("student,step,skill,correct\n"+
		"a,2,7,1\nb,0,3,0\na,0,5,0\na,1,5,1\na,3,7,1\na,4,5,1\n"), 0o644)
	r := runArgs("tutor", "--model", tutorModel, "--data", data, "--student", "a", "--json")
	r.wantOK(t)
	stdout := r.stdout
	var lines []tutorLine
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var l tutorLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	want := []struct {
		skill int
		ok    bool
	}{{5, false}, {5, true}, {7, true}, {7, true}, {5, true}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), stdout)
	}
	for i, l := range lines {
		if l.Answer != i+1 || l.Skill != want[i].skill || l.Correct != want[i].ok {
			t.Errorf("line %d: %+v, want skill %d correct %v", i, l, want[i].skill, want[i].ok)
		}
		if i > 0 && l.Predicted != lines[i-1].Mastery[strconv.Itoa(l.Skill)] && lines[i-1].Mastery[strconv.Itoa(l.Skill)] != 0 {
			t.Errorf("answer %d predicted %v, the mastery after the answer before said %v", i+1, l.Predicted, lines[i-1].Mastery[strconv.Itoa(l.Skill)])
		}
		if p := l.Mastery[strconv.Itoa(l.Skill)]; !(p > 0 && p < 1) {
			t.Errorf("answer %d: mastery of skill %d is %v", i+1, l.Skill, p)
		}
	}
	// Two right answers on skill 7 after none raise its mastery.
	if !(lines[3].Mastery["7"] > lines[1].Mastery["7"]) {
		t.Errorf("mastery of 7: %v after two right answers, %v before", lines[3].Mastery["7"], lines[1].Mastery["7"])
	}
	if r := runArgs("tutor", "--model", tutorModel, "--data", data, "--student", "a"); r.code != 0 || !strings.Contains(r.stdout, "learner a: 5 answers") {
		t.Errorf("table: %v", r)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("student,skill,correct\na,99999,1\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", data, "--student", "zz"}, `no answers of student "zz"`},
		{[]string{"--data", bad, "--student", "a"}, "skill 99999"},
		{[]string{"--data", data, "--student", "a", "--skill-col", "kc"}, `no column "kc"`},
		{[]string{"--data", data, "--student", "a", "--prerequisites", "5:5"}, "needs itself"},
	} {
		r := runArgs(append([]string{"tutor", "--model", tutorModel}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %v; want an error with %q", c.args, r, c.want)
		}
	}
}
