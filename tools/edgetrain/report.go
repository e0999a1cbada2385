package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/edgerun/edgerun/tools/train"
)

// printReport prints the test-set figures: the metrics f32 beside int8,
// then for classifiers per-class precision, recall and F1 and the
// confusion matrix (at most 12 classes in full; more are summarised by
// their worst F1).
func printReport(w io.Writer, kind train.Kind, labels []string, f32, q train.Metrics, rep *train.Report) {
	fmt.Fprintln(w, "test set (through the device engine):")
	names := make([]string, 0, len(f32))
	for k := range f32 {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "  %-16s %10s", "metric", "f32")
	if q != nil {
		fmt.Fprintf(w, " %10s", "int8")
	}
	fmt.Fprintln(w)
	for _, k := range names {
		fmt.Fprintf(w, "  %-16s %10.4f", k, f32[k])
		if q != nil {
			fmt.Fprintf(w, " %10.4f", q[k])
		}
		fmt.Fprintln(w)
	}
	if rep == nil || (kind != train.Binary && kind != train.Multiclass) {
		return
	}
	label := func(c int) string {
		if kind == train.Binary {
			if c == 1 && len(labels) > 0 {
				return labels[len(labels)-1]
			}
			if c == 0 && len(labels) > 1 {
				return labels[0]
			}
		}
		if c < len(labels) {
			return labels[c]
		}
		return fmt.Sprint(c)
	}
	classes := make([]int, rep.Classes)
	for i := range classes {
		classes[i] = i
	}
	if rep.Classes > 12 {
		sort.SliceStable(classes, func(i, j int) bool { return rep.F1[classes[i]] < rep.F1[classes[j]] })
		classes = classes[:8]
		fmt.Fprintf(w, "per class (f32; the 8 lowest F1 of %d classes):\n", rep.Classes)
	} else {
		fmt.Fprintln(w, "per class (f32):")
	}
	fmt.Fprintf(w, "  %-28s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support")
	for _, c := range classes {
		fmt.Fprintf(w, "  %-28.28s %9.3f %9.3f %9.3f %8d\n", label(c), rep.Precision[c], rep.Recall[c], rep.F1[c], rep.Support[c])
	}
	if rep.Classes > 12 {
		return
	}
	fmt.Fprintln(w, "confusion (rows: true, columns: predicted):")
	for t := 0; t < rep.Classes; t++ {
		fmt.Fprintf(w, "  %-14.14s", label(t))
		for p := 0; p < rep.Classes; p++ {
			fmt.Fprintf(w, " %6d", rep.Confusion[t][p])
		}
		fmt.Fprintln(w)
	}
}

// printBaselines prints the baselines' figures on the test split beside
// the model's metrics they share, by name.
func printBaselines(w io.Writer, base map[string]train.Metrics, model train.Metrics) {
	if len(base) == 0 {
		return
	}
	var names, metrics []string
	for n := range base {
		names = append(names, n)
	}
	sort.Strings(names)
	for k := range model {
		if _, ok := base[names[0]][k]; ok {
			metrics = append(metrics, k)
		}
	}
	sort.Strings(metrics)
	fmt.Fprintln(w, "baselines on the same test split:")
	fmt.Fprintf(w, "  %-16s", "model")
	for _, k := range metrics {
		fmt.Fprintf(w, " %10s", k)
	}
	fmt.Fprintln(w)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s", n)
		for _, k := range metrics {
			fmt.Fprintf(w, " %10.4f", base[n][k])
		}
		fmt.Fprintln(w)
	}
}
