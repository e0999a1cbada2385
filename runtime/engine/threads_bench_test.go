package engine_test

import (
	"sort"
	"testing"
	"time"

	"github.com/edgerun/edgerun/runtime/engine"
)

// BenchmarkThreads runs the perfpeers models with a 1-thread and a
// 2-thread session in one process, alternating every inference, and
// reports the median ratio of the 2-thread time to the 1-thread time of
// neighbouring inferences ("2thr/1thr", < 1: the second thread helps).
// Alternating makes both sessions see the same load of the machine, which
// separate runs on a shared machine do not. A second 1-thread session runs
// in the same rotation as a control: its median ratio to the first
// ("1thr'/1thr") is what two identical sessions differ by.
func BenchmarkThreads(b *testing.B) {
	for _, bc := range []struct {
		name, spec string
		batch      int
	}{
		{"mlp/b1", "mlp:64-256-128-10", 1}, {"mlp/b64", "mlp:64-256-128-10", 64},
		{"lstm/b1", "textcls:vocab=20000,emb=64,lstm=128,classes=1,seq=64", 1},
		{"lstm/b32", "textcls:vocab=20000,emb=64,lstm=128,classes=1,seq=64", 32},
		{"tf/b1", "transformer:vocab=8000,d=128,heads=4,ffn=512,layers=2,seq=64,classes=4", 1},
		{"tf/b32", "transformer:vocab=8000,d=128,heads=4,ffn=512,layers=2,seq=64,classes=4", 32},
		{"rec/b5000", "recommender:users=1000,items=5000,dim=32", 5000},
	} {
		for _, q := range []bool{true, false} {
			name := bc.name + "/f32"
			if q {
				name = bc.name + "/int8"
			}
			b.Run(name, func(b *testing.B) {
				haveOps(b, opsOf(bc.spec)...)
				m := load(b, bc.spec, q)
				in := inputs(m, bc.batch, 1)
				s1 := m.NewSession(engine.WithThreads(1))
				defer s1.Close()
				s2 := m.NewSession(engine.WithThreads(2))
				defer s2.Close()
				// s0 is a second 1-thread session: the median ratio of
				// two identical sessions ("1thr'/1thr") is the noise and
				// order bias of the measurement, the bound to read
				// 2thr/1thr against.
				s0 := m.NewSession(engine.WithThreads(1))
				defer s0.Close()
				run := func(s *engine.Session) time.Duration {
					t0 := time.Now()
					if _, err := s.Run(in); err != nil {
						b.Fatal(err)
					}
					return time.Since(t0)
				}
				for range 10 {
					run(s0)
					run(s1)
					run(s2)
				}
				var ratios, control []float64
				var t1, t2 time.Duration
				for i := 0; b.Loop(); i++ {
					// The three in a rotating order, so none is always
					// first or last.
					var d0, d1, d2 time.Duration
					switch i % 3 {
					case 0:
						d0, d1, d2 = run(s0), run(s1), run(s2)
					case 1:
						d1, d2, d0 = run(s1), run(s2), run(s0)
					default:
						d2, d0, d1 = run(s2), run(s0), run(s1)
					}
					t1, t2 = t1+d1, t2+d2
					ratios = append(ratios, float64(d2)/float64(d1))
					control = append(control, float64(d0)/float64(d1))
				}
				sort.Float64s(ratios)
				sort.Float64s(control)
				b.ReportMetric(ratios[len(ratios)/2], "2thr/1thr")
				b.ReportMetric(control[len(control)/2], "1thr'/1thr")
				b.ReportMetric(float64(t1.Microseconds())/float64(len(ratios)), "µs/1thr")
				b.ReportMetric(float64(t2.Microseconds())/float64(len(ratios)), "µs/2thr")
			})
		}
	}
}
