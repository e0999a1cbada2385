package sdkrt

import (
	"fmt"
	"slices"
	"sort"

	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
)

// Output names of a Classifier's response.
const (
	OutProbabilities = "probabilities" // FP32 [n, labels]
	OutLabel         = "label"         // BYTES [n]: the most probable label
	OutTopKLabels    = "top_k_labels"  // BYTES [n, k]
	OutTopKScores    = "top_k_scores"  // FP32 [n, k]
	OutAnomalyScore  = "anomaly_score" // FP32 [n]: 1 − p(Normal), when Normal is set
)

// Classifier is the post-processing of a classifier: it reads class
// probabilities from one model output, either [n, labels] (softmax) or
// [n, 1] with two labels (a sigmoid giving the probability of the
// second label).
type Classifier struct {
	// Labels are the class names, in output order.
	Labels []string
	// Output is the index of the model output that holds the
	// probabilities.
	Output int
	// TopK, when positive, adds the top-k outputs with TopK as the
	// default k; the request parameter "top_k" (1..len(Labels))
	// overrides it.
	TopK int
	// Normal, when set (NewClassifier takes it from the metadata's
	// normal_label), is the label of the normal condition: Post adds
	// anomaly_score, 1 − its probability, as a detector answers.
	Normal  string
	sigmoid bool
}

// NewClassifier prepares the classification post-processing of em's
// first output with the labels of its metadata.
func NewClassifier(em *engine.Model) (*Classifier, error) {
	labels := em.Meta.Labels
	if len(labels) < 2 {
		return nil, fmt.Errorf("sdkrt: a classifier needs at least 2 labels in the metadata, the model has %d", len(labels))
	}
	if len(em.Outputs) == 0 || em.Outputs[0].DType != tensor.F32 || len(em.Outputs[0].Shape) != 2 {
		return nil, fmt.Errorf("sdkrt: a classifier's first output must be f32 [?,labels], the model has %s", specNames(ModelOutputs(em)))
	}
	c := &Classifier{Labels: labels}
	if nl, ok := Extra(em, "normal_label"); ok && slices.Contains(labels, nl) {
		c.Normal = nl
	}
	switch w := em.Outputs[0].Shape[1]; {
	case w == 1 && len(labels) == 2:
		c.sigmoid = true
	case w == len(labels):
	default:
		return nil, fmt.Errorf("sdkrt: the model's output %q has %d columns for %d labels", em.Outputs[0].Name, w, len(labels))
	}
	return c, nil
}

// Parameters documents the request parameters Post understands.
func (c *Classifier) Parameters() map[string]string {
	if c.TopK <= 0 {
		return nil
	}
	return map[string]string{"top_k": fmt.Sprintf("number of labels in top_k_labels/top_k_scores, 1 to %d (default %d)", len(c.Labels), c.TopK)}
}

// Specs are the response outputs Post writes.
func (c *Classifier) Specs() []sdk.TensorSpec {
	s := []sdk.TensorSpec{
		{Name: OutLabel, Datatype: sdk.BYTES, Shape: []int64{-1}},
		{Name: OutProbabilities, Datatype: sdk.FP32, Shape: []int64{-1, int64(len(c.Labels))}},
	}
	if c.TopK > 0 {
		s = append(s,
			sdk.TensorSpec{Name: OutTopKLabels, Datatype: sdk.BYTES, Shape: []int64{-1, -1}},
			sdk.TensorSpec{Name: OutTopKScores, Datatype: sdk.FP32, Shape: []int64{-1, -1}})
	}
	if c.normal() >= 0 {
		s = append(s, sdk.TensorSpec{Name: OutAnomalyScore, Datatype: sdk.FP32, Shape: []int64{-1}})
	}
	return s
}

// normal is the index of the Normal label, -1 without one.
func (c *Classifier) normal() int {
	if c.Normal == "" {
		return -1
	}
	return slices.Index(c.Labels, c.Normal)
}

// Probabilities copies the class probabilities out of the model's
// outputs: n rows of len(Labels).
func (c *Classifier) Probabilities(outs []*tensor.Tensor) ([]float32, int, error) {
	if c.Output >= len(outs) {
		return nil, 0, fmt.Errorf("sdkrt: the model returned %d outputs, the classifier reads output %d", len(outs), c.Output)
	}
	t := outs[c.Output]
	if t.DType != tensor.F32 || len(t.Shape) != 2 {
		return nil, 0, fmt.Errorf("sdkrt: the classifier's output is %s%v, want f32 [n,labels]", t.DType, t.Shape)
	}
	n, L := t.Shape[0], len(c.Labels)
	p := make([]float32, n*L)
	if c.sigmoid {
		for i := range n {
			p[2*i], p[2*i+1] = 1-t.F32[i], t.F32[i]
		}
		return p, n, nil
	}
	if t.Shape[1] != L {
		return nil, 0, fmt.Errorf("sdkrt: the classifier's output has %d columns for %d labels", t.Shape[1], L)
	}
	copy(p, t.F32)
	return p, n, nil
}

// Post writes label and probabilities, top_k_labels and top_k_scores
// when TopK is set, and anomaly_score when Normal is.
func (c *Classifier) Post(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	k := 0
	if c.TopK > 0 {
		var err error
		if k, err = IntParam(req, "top_k", min(c.TopK, len(c.Labels)), 1, len(c.Labels)); err != nil {
			return nil, err
		}
	}
	p, n, err := c.Probabilities(outs)
	if err != nil {
		return nil, err
	}
	L := len(c.Labels)
	labels := make([]string, n)
	for i := range n {
		labels[i] = c.Labels[TopK(p[i*L:(i+1)*L], 1)[0]]
	}
	resp := &sdk.InferResponse{Outputs: []sdk.Tensor{
		BYTES(OutLabel, []int64{int64(n)}, labels),
		FP32(OutProbabilities, []int64{int64(n), int64(L)}, p),
	}}
	if k > 0 {
		kl := make([]string, 0, n*k)
		ks := make([]float32, 0, n*k)
		for i := range n {
			row := p[i*L : (i+1)*L]
			for _, j := range TopK(row, k) {
				kl = append(kl, c.Labels[j])
				ks = append(ks, row[j])
			}
		}
		resp.Outputs = append(resp.Outputs,
			BYTES(OutTopKLabels, []int64{int64(n), int64(k)}, kl),
			FP32(OutTopKScores, []int64{int64(n), int64(k)}, ks))
	}
	if j := c.normal(); j >= 0 {
		score := make([]float32, n)
		for i := range score {
			score[i] = 1 - p[i*L+j]
		}
		resp.Outputs = append(resp.Outputs, FP32(OutAnomalyScore, []int64{int64(n)}, score))
	}
	return resp, nil
}

// TopK returns the indices of the k largest scores, largest first (ties:
// lower index first). k is capped at len(scores).
func TopK(scores []float32, k int) []int {
	k = min(k, len(scores))
	if k <= 0 {
		return nil
	}
	if k == 1 {
		best := 0
		for i, s := range scores {
			if s > scores[best] {
				best = i
			}
		}
		return []int{best}
	}
	// Keep the best k seen so far, sorted, inserting after equal scores
	// so that ties keep the lower index first: O(n log k + n·k) worst case,
	// a single pass for the usual small k.
	top := make([]int, 0, k)
	for i, s := range scores {
		if len(top) == k && s <= scores[top[k-1]] {
			continue
		}
		at := sort.Search(len(top), func(j int) bool { return scores[top[j]] < s })
		if len(top) < k {
			top = append(top, 0)
		}
		copy(top[at+1:], top[at:len(top)-1])
		top[at] = i
	}
	return top
}
