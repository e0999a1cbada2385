package tutor_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/tutor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t testing.TB, opts ...tutor.Option) *tutor.Model {
	t.Helper()
	m, err := tutor.NewModel(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// answers is a request of a learner's new answers (params: name, value
// pairs).
func answers(learner string, skills []int64, correct []int64, params ...string) *sdk.InferRequest {
	req := &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.Text(tutor.InLearner, learner)}}
	if skills != nil {
		req.Inputs = append(req.Inputs, plugintest.INT64(tutor.InSkill, skills...), plugintest.INT64(tutor.InCorrect, correct...))
	}
	if len(params) > 0 {
		req.Parameters = map[string]string{}
		for i := 0; i+1 < len(params); i += 2 {
			req.Parameters[params[i]] = params[i+1]
		}
	}
	return req
}

// read is a request of a learner's mastery.
func read(learner string, params ...string) *sdk.InferRequest {
	return answers(learner, nil, nil, params...)
}

type result struct {
	mastery     []float32
	recommended int64
	answers     int64
}

func infer(t testing.TB, m sdk.Model, req *sdk.InferRequest) result {
	t.Helper()
	resp := plugintest.Infer(t, m, req)
	r := result{
		mastery:     plugintest.Output(t, resp, tutor.OutMastery).FP32,
		recommended: plugintest.Output(t, resp, tutor.OutRecommended).INT64[0],
		answers:     plugintest.Output(t, resp, tutor.OutAnswers).INT64[0],
	}
	if len(r.mastery) != 124 {
		t.Fatalf("mastery of %d skills, want 124", len(r.mastery))
	}
	return r
}

func repeat(v int64, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestMastery: right answers on a skill raise its mastery, wrong ones do
// not; answers sent one request at a time, all at once and as the whole
// history (history=true) agree; a read gives the last answer's mastery.
func TestMastery(t *testing.T) {
	m := newModel(t)
	const skill = 123 // the most frequent skill of the data
	first := infer(t, m, answers("right", []int64{skill}, []int64{1}))
	var last result
	for range 9 {
		last = infer(t, m, answers("right", []int64{skill}, []int64{1}))
	}
	wrong := infer(t, m, answers("wrong", repeat(skill, 10), repeat(0, 10)))
	t.Logf("skill %d: mastery %.3f after 1 right answer, %.3f after 10, %.3f after 10 wrong; recommended %d", skill, first.mastery[skill], last.mastery[skill], wrong.mastery[skill], last.recommended)
	if last.mastery[skill] <= first.mastery[skill] || last.mastery[skill] <= wrong.mastery[skill] {
		t.Errorf("right answers did not raise mastery: %.3f after 1, %.3f after 10, %.3f after 10 wrong", first.mastery[skill], last.mastery[skill], wrong.mastery[skill])
	}
	if last.answers != 10 || wrong.answers != 10 {
		t.Errorf("answers %d and %d, want 10", last.answers, wrong.answers)
	}
	for _, v := range wrong.mastery {
		if v < 0 || v > 1 {
			t.Fatalf("mastery %v outside [0, 1]", v)
		}
	}
	// Over every skill: 10 right answers give a higher mastery than 1,
	// and than 10 wrong ones, for most skills (a few are too rare in the
	// data to learn).
	rises, beats := 0, 0
	for s := range int64(124) {
		one := infer(t, m, answers("s", []int64{s}, []int64{1}, "history", "true"))
		ten := infer(t, m, answers("s", repeat(s, 10), repeat(1, 10), "history", "true"))
		bad := infer(t, m, answers("s", repeat(s, 10), repeat(0, 10), "history", "true"))
		if ten.mastery[s] > one.mastery[s] {
			rises++
		}
		if ten.mastery[s] > bad.mastery[s] {
			beats++
		}
	}
	t.Logf("skills whose mastery 10 right answers raise: %d of 124; above 10 wrong answers: %d", rises, beats)
	if rises < 124*3/4 || beats < 124*3/4 {
		t.Errorf("10 right answers raise the mastery of %d skills of 124 and beat 10 wrong ones on %d: want 3 in 4", rises, beats)
	}
	all := infer(t, m, answers("all", repeat(skill, 10), repeat(1, 10)))
	hist := infer(t, m, answers("right", repeat(skill, 10), repeat(1, 10), "history", "true"))
	again := infer(t, m, read("right"))
	if d := maxDiff(all.mastery, last.mastery); d > 1e-5 || all.answers != 10 {
		t.Errorf("10 answers at once differ from one at a time by %g (answers %d)", d, all.answers)
	}
	if d := maxDiff(hist.mastery, last.mastery); d > 1e-5 || hist.answers != 10 {
		t.Errorf("the history again differs by %g (answers %d, want 10: history restarts)", d, hist.answers)
	}
	if !slices.Equal(again.mastery, hist.mastery) || again.answers != 10 || again.recommended != hist.recommended {
		t.Errorf("a read gave %+v, the last update %+v", again, hist)
	}
	// The learner as a parameter, correct as BOOL.
	req := answers("p", []int64{3, 3}, nil, "learner", "p")
	req.Inputs = []sdk.Tensor{plugintest.INT64(tutor.InSkill, 3, 3), {Name: tutor.InCorrect, Datatype: sdk.BOOL, Shape: []int64{2}, BOOL: []bool{true, false}}}
	viaParam := infer(t, m, req)
	viaInput := infer(t, m, answers("q", []int64{3, 3}, []int64{1, 0}))
	if !slices.Equal(viaParam.mastery, viaInput.mastery) || viaParam.answers != 2 {
		t.Errorf("learner parameter and BOOL correct: %+v, want %+v", viaParam, viaInput)
	}
	d := plugintest.Description(t, m)
	if !strings.Contains(d.Provenance, "RESEARCH") || !strings.Contains(d.Summary, "research use") {
		t.Errorf("the description does not say the data is for research use: %q / %q", d.Summary, d.Provenance)
	}
}

// TestRecommend: the recommendation follows the parameters: the
// unmastered skill closest to target, prerequisites respected (the rule
// itself: sdkrt.SkillRule's tests).
func TestRecommend(t *testing.T) {
	m := newModel(t)
	r := infer(t, m, answers("rec", []int64{123, 123, 123, 5, 5}, []int64{1, 1, 1, 0, 1}))
	closest := func(target float64) int64 {
		best := -1
		for k, v := range r.mastery {
			if float64(v) < tutor.DefaultMastered && (best < 0 || math.Abs(float64(v)-target) < math.Abs(float64(r.mastery[best])-target)) {
				best = k
			}
		}
		return int64(best)
	}
	if want := closest(tutor.DefaultTarget); r.recommended != want {
		t.Errorf("recommended %d, want %d (mastery closest to %g)", r.recommended, want, tutor.DefaultTarget)
	}
	if got, want := infer(t, m, read("rec", "target", "0.3")).recommended, closest(0.3); got != want {
		t.Errorf("target 0.3: recommended %d, want %d", got, want)
	}
	// The recommended skill waiting for an unmastered one: another.
	other := (r.recommended + 1) % 124
	for float64(r.mastery[other]) >= tutor.DefaultMastered {
		other = (other + 1) % 124
	}
	blocked := infer(t, m, read("rec", "prerequisites", fmt.Sprintf("%d:%d", r.recommended, other)))
	if blocked.recommended == r.recommended {
		t.Errorf("skill %d recommended while it needs %d (mastery %.3f)", r.recommended, other, r.mastery[other])
	}
	// Everything mastered at 0.01: the least mastered skill.
	low := int64(slices.Index(r.mastery, slices.Min(r.mastery)))
	if got := infer(t, m, read("rec", "mastered", "0.01")).recommended; got != low {
		t.Errorf("every skill mastered: recommended %d, want the least mastered %d", got, low)
	}
}

// TestPersistence: with EDGERUN_TUTOR_STORE a new plugin instance
// continues a learner from the store with identical outputs; the files
// are named by a hash, one per learner, of the documented size.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(tutor.StoreEnv, dir)
	a, b := []int64{5, 5, 7, 9, 9, 9}, []int64{1, 0, 1, 1, 1, 0}
	const id = "../../etc/passwd" // never a path

	ref := newModel(t, tutor.WithStore("")) // memory only: the same answers, one instance
	infer(t, ref, answers(id, a, b))
	want := infer(t, ref, answers(id, []int64{9, 12}, []int64{1, 1}))

	first, err := tutor.New()
	if err != nil {
		t.Fatal(err)
	}
	infer(t, first, answers(id, a, b))
	first.(*tutor.Model).Close()
	files, _ := os.ReadDir(dir)
	if len(files) != 1 || !strings.HasSuffix(files[0].Name(), ".state") || len(files[0].Name()) != 32+6 {
		t.Fatalf("store holds %v, want one <hash>.state", files)
	}
	info, _ := files[0].Info()
	m := newModel(t)
	if info.Size() != int64(m.StateSize()) || m.StateSize() != 1556 {
		t.Errorf("state file of %d bytes, StateSize %d, want 1556", info.Size(), m.StateSize())
	}
	if m.StorePath(id) != filepath.Join(dir, files[0].Name()) {
		t.Errorf("StorePath %q", m.StorePath(id))
	}
	got := infer(t, m, answers(id, []int64{9, 12}, []int64{1, 1}))
	if !slices.Equal(got.mastery, want.mastery) || got.answers != 8 || got.recommended != want.recommended {
		t.Fatalf("continued from the store: %+v, want %+v", got, want)
	}
	// And a third instance reads it.
	if r := infer(t, newModel(t), read(id)); !slices.Equal(r.mastery, want.mastery) || r.answers != 8 {
		t.Fatalf("read from the store: %+v", r)
	}
	if files, _ := os.ReadDir(dir); len(files) != 1 {
		t.Errorf("store holds %d files after the updates, want 1", len(files))
	}
}

// TestEvict: past the memory bound the least recently used learner is
// dropped: unknown again without a store, read back from it with one.
func TestEvict(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(fmt.Sprint("store=", withStore), func(t *testing.T) {
			opts := []tutor.Option{tutor.WithMaxLearners(3), tutor.WithStore("")}
			if withStore {
				opts[1] = tutor.WithStore(t.TempDir())
			}
			m := newModel(t, opts...)
			var first result
			for i := range 5 {
				r := infer(t, m, answers(fmt.Sprint("l", i), []int64{int64(i), 2}, []int64{1, 0}))
				if i == 0 {
					first = r
				}
			}
			if n := m.Learners(); n != 3 {
				t.Fatalf("%d learners in memory, want 3", n)
			}
			_, err := m.Infer(context.Background(), read("l0"))
			if !withStore {
				if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), `unknown learner "l0": send answers first`) {
					t.Fatalf("dropped learner: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := infer(t, m, read("l0")); !slices.Equal(r.mastery, first.mastery) || r.answers != 2 {
				t.Fatalf("l0 back from the store: %+v, want %+v", r, first)
			}
			if n := m.Learners(); n != 3 {
				t.Fatalf("%d learners in memory, want 3", n)
			}
		})
	}
}

// TestCorruptStore: a corrupt state file, or one of another model, is an
// error for that learner naming the file, not invalid input and not a
// reset; other learners are served; history=true rewrites it.
func TestCorruptStore(t *testing.T) {
	dir := t.TempDir()
	m := newModel(t, tutor.WithStore(dir))
	infer(t, m, answers("bad", []int64{1, 2, 3}, []int64{1, 1, 0}))
	infer(t, m, answers("good", []int64{1, 2, 3}, []int64{1, 1, 0}))
	path := m.StorePath("bad")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	otherModel := slices.Clone(orig)
	otherModel[8] ^= 0xff // the fingerprint, with a valid checksum
	binary.LittleEndian.PutUint32(otherModel[len(otherModel)-4:], crc32.ChecksumIEEE(otherModel[:len(otherModel)-4]))
	flipped := slices.Clone(orig)
	flipped[100] ^= 1
	for _, c := range []struct {
		name string
		data []byte
		is   error
	}{
		{"flipped", flipped, sdkrt.ErrStateCorrupt},
		{"truncated", orig[:700], sdkrt.ErrStateCorrupt},
		{"empty", []byte{}, sdkrt.ErrStateCorrupt},
		{"text", []byte("hello"), sdkrt.ErrStateCorrupt},
		{"other_model", otherModel, sdkrt.ErrStateModel},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			fresh := newModel(t, tutor.WithStore(dir))
			for _, req := range []*sdk.InferRequest{read("bad"), answers("bad", []int64{4}, []int64{1})} {
				_, err := fresh.Infer(context.Background(), req)
				if err == nil || !errors.Is(err, c.is) || errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want %v naming %s", err, c.is, path)
				}
			}
			if b, _ := os.ReadFile(path); !slices.Equal(b, c.data) {
				t.Fatal("the refused file was changed")
			}
			if r := infer(t, fresh, read("good")); r.answers != 3 {
				t.Fatalf("another learner: %+v", r)
			}
			if fresh.Learners() != 1 {
				t.Errorf("%d learners in memory, want 1 (the failed one forgotten)", fresh.Learners())
			}
		})
	}
	fresh := newModel(t, tutor.WithStore(dir))
	if r := infer(t, fresh, answers("bad", []int64{1, 2, 3}, []int64{1, 1, 0}, "history", "true")); r.answers != 3 {
		t.Fatalf("history=true over a corrupt file: %+v", r)
	}
	if b, _ := os.ReadFile(path); !slices.Equal(b, orig) {
		t.Error("history=true did not rewrite the state it had")
	}
}

// TestConcurrent: requests of several learners at once, two goroutines
// per learner, with the store and a memory bound below the learners:
// every answer counted once, each learner's state what its answers give
// (run with -race).
func TestConcurrent(t *testing.T) {
	m := newModel(t, tutor.WithStore(t.TempDir()), tutor.WithMaxLearners(3))
	const learners, per = 5, 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*learners)
	for g := range 2 * learners {
		wg.Go(func() {
			l := g % learners
			for range per {
				if _, err := m.Infer(context.Background(), answers(fmt.Sprint("c", l), []int64{int64(10 + l)}, []int64{1})); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ref := newModel(t, tutor.WithStore(""))
	for l := range learners {
		got := infer(t, m, read(fmt.Sprint("c", l)))
		want := infer(t, ref, answers("ref", repeat(int64(10+l), 2*per), repeat(1, 2*per), "history", "true"))
		if got.answers != 2*per || maxDiff(got.mastery, want.mastery) > 1e-5 {
			t.Errorf("learner c%d: %d answers, mastery off by %g", l, got.answers, maxDiff(got.mastery, want.mastery))
		}
	}
}

// TestErrors: every bad request is invalid input saying what is wrong,
// and leaves the learner as it was.
func TestErrors(t *testing.T) {
	m := newModel(t)
	before := infer(t, m, answers("x", []int64{1}, []int64{1}))
	long := strings.Repeat("l", tutor.MaxLearnerID+1)
	withInputs := func(ins ...sdk.Tensor) *sdk.InferRequest { return &sdk.InferRequest{Inputs: ins} }
	learnerX := plugintest.Text(tutor.InLearner, "x")
	for _, c := range []struct {
		name string
		req  *sdk.InferRequest
		want string
	}{
		{"skill_high", answers("x", []int64{0, 124}, []int64{1, 1}), "answer 1: skill 124 is out of range: the model knows skills 0 to 123"},
		{"skill_negative", answers("x", []int64{-1}, []int64{1}), "skill -1 is out of range"},
		{"lengths", answers("x", []int64{1, 2}, []int64{1}), `"skill" has 2 answers and "correct" 1`},
		{"correct_2", answers("x", []int64{1, 2}, []int64{1, 2}), "answer 1: correct = 2, want 0 or 1"},
		{"unknown_learner", read("nobody"), `unknown learner "nobody": send answers first`},
		{"no_inputs", &sdk.InferRequest{Parameters: map[string]string{"learner": "x"}}, "no inputs"},
		{"no_learner", withInputs(plugintest.INT64(tutor.InSkill, 1), plugintest.INT64(tutor.InCorrect, 1)), "no learner"},
		{"learners_differ", read("x", "learner", "y"), `the input "learner" is "x" and the parameter learner "y"`},
		{"empty_learner", read(""), "the learner id is empty"},
		{"long_learner", read(long), "learner id of 257 bytes"},
		{"skill_alone", withInputs(learnerX, plugintest.INT64(tutor.InSkill, 1)), "go together"},
		{"correct_fp32", withInputs(learnerX, plugintest.INT64(tutor.InSkill, 1), plugintest.FP32(tutor.InCorrect, []int64{1}, 1)), `"correct"`},
		{"skill_bytes", withInputs(learnerX, plugintest.Text(tutor.InSkill, "1"), plugintest.INT64(tutor.InCorrect, 1)), `"skill"`},
		{"skill_2d", withInputs(learnerX, sdk.Tensor{Name: tutor.InSkill, Datatype: sdk.INT64, Shape: []int64{1, 1}, INT64: []int64{1}}, plugintest.INT64(tutor.InCorrect, 1)), `"skill"`},
		{"unknown_input", withInputs(learnerX, plugintest.INT64("level", 1)), `unknown input "level"`},
		{"repeated", withInputs(learnerX, learnerX), "given twice"},
		{"unknown_output", &sdk.InferRequest{Inputs: []sdk.Tensor{learnerX}, Outputs: []string{"grade"}}, `unknown output "grade"`},
		{"target", read("x", "target", "1.5"), `parameter "target" = "1.5"`},
		{"target_0", read("x", "target", "0"), "want (0, 1)"},
		{"mastered", read("x", "mastered", "high"), `parameter "mastered" = "high"`},
		{"history", answers("x", []int64{1}, []int64{1}, "history", "maybe"), "parameter history"},
		{"history_empty", read("x", "history", "true"), "history = true needs"},
		{"prereq_not_skill", read("x", "prerequisites", "5:1,x"), `skill "x": want an id from 0 to 123`},
		{"prereq_range", read("x", "prerequisites", "200:1"), `skill "200": want an id from 0 to 123`},
		{"prereq_no_colon", read("x", "prerequisites", "5"), `"5": want SKILL:NEEDED,NEEDED`},
		{"prereq_self", read("x", "prerequisites", "5:5"), "skill 5 needs itself"},
		{"prereq_twice", read("x", "prerequisites", "1:2;1:3"), "skill 1 listed twice"},
		{"prereq_long", read("x", "prerequisites", strings.Repeat("1:2;", 1<<14+1)), "at most 65536"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Infer(context.Background(), c.req)
			if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want invalid input saying %q", err, c.want)
			}
		})
	}
	if after := infer(t, m, read("x")); !slices.Equal(after.mastery, before.mastery) || after.answers != 1 {
		t.Errorf("the refused requests changed the learner: %+v", after)
	}
	if _, err := m.Infer(context.Background(), nil); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("nil request: %v", err)
	}
	t.Setenv(tutor.LearnersEnv, "none")
	if _, err := tutor.New(); err == nil || !strings.Contains(err.Error(), tutor.LearnersEnv) {
		t.Errorf("a bad %s: %v", tutor.LearnersEnv, err)
	}
}

// TestConformance: the plugin contract, in process and over the wire:
// reading a known learner (deterministic), and new answers (each changes
// the learner, so concurrent answers differ).
func TestConformance(t *testing.T) {
	m := newModel(t)
	infer(t, m, answers("conf", []int64{1, 2}, []int64{1, 0}))
	readReq := read("conf", "prerequisites", "2:1", "target", "0.6")
	update := answers("conf-2", []int64{4, 4, 4}, []int64{1, 0, 1})
	for _, c := range []struct {
		name string
		m    sdk.Model
	}{{"in_process", m}, {"wire", sdktest.Serve(t, m)}} {
		t.Run(c.name, func(t *testing.T) {
			t.Run("read", func(t *testing.T) { sdktest.Run(t, c.m, sdktest.WithRequests(readReq)) })
			t.Run("answers", func(t *testing.T) { sdktest.Run(t, c.m, sdktest.WithRequests(update), sdktest.Nondeterministic()) })
		})
	}
}

// BenchmarkInferAnswer is one answer through the whole plugin (request
// checks, the learner's lock, one step, the response), in memory and with
// the store (a file written and fsynced per answer).
func BenchmarkInferAnswer(b *testing.B) {
	for _, c := range []struct {
		name string
		opt  func(b *testing.B) tutor.Option
	}{
		{"memory", func(*testing.B) tutor.Option { return tutor.WithStore("") }},
		{"store", func(b *testing.B) tutor.Option { return tutor.WithStore(b.TempDir()) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := newModel(b, c.opt(b))
			req := answers("bench", []int64{7}, []int64{1})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Infer(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
