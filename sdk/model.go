package sdk

import "context"

// Model is what a plugin implements: one domain model behind a small,
// versioned contract. Implementations must be safe for concurrent calls.
type Model interface {
	// Describe says what the model is and what it takes and returns.
	Describe(ctx context.Context) (*Description, error)
	// Infer answers one request. Bad input (a missing tensor, a wrong
	// datatype or shape, empty text, an unknown id) is an error naming
	// the problem, never a panic.
	Infer(ctx context.Context, req *InferRequest) (*InferResponse, error)
	// Health returns nil when the model can serve.
	Health(ctx context.Context) error
}

// Open Inference Protocol datatypes a tensor can have.
const (
	FP32  = "FP32"
	INT64 = "INT64"
	INT32 = "INT32"
	BYTES = "BYTES" // text: one UTF-8 string per element
	BOOL  = "BOOL"
)

// Description is a model's self-description.
type Description struct {
	Name    string
	Version string
	// Domain is e.g. "sentiment", "intent", "recommend", "diagnose",
	// "risk", "maintenance".
	Domain  string
	Summary string
	Inputs  []TensorSpec
	Outputs []TensorSpec
	// Labels are class names, in output order, when the model classifies.
	Labels []string
	// Parameters lists the request parameters the model understands, with
	// their meaning (e.g. "top_k": "number of intents to return (default 3)").
	Parameters map[string]string
	// Provenance says where the weights come from, e.g. "trained by
	// edgetrain on data/sentiment/... (test accuracy 0.82)" or
	// "edgetrain init: random weights, not trained".
	Provenance string
}

// MultiDomain is the Domain of the description a plugin binary that
// serves several domains gives when it is started without one (as
// plugins/builtin/cmd/edgerun-plugins is): its Labels are the domains it
// serves, one per process, each started with the domain as the binary's
// first argument (WithArgs(domain)). Such a description has no inputs or
// outputs, and its Infer refuses every request, saying how to choose a
// domain. Hosts that list plugins (edgerun plugins list --describe) start
// one process per domain.
const MultiDomain = "*"

// TensorSpec describes one input or output: its name, datatype and shape
// (−1 for a dimension of any size), and for a categorical BYTES input the
// values it takes.
type TensorSpec struct {
	Name     string
	Datatype string
	Shape    []int64
	// Categories, for a BYTES input that takes one of a fixed set of
	// values (a categorical feature of a tabular model), are those values;
	// empty: any text. A model refuses other values as invalid input, but
	// may also accept missing-value markers (such as "NA") where it
	// imputes, so ValidateRequest does not check them: the model does.
	Categories []string
	// Optional marks an input a request may leave out: ValidateRequest
	// and the CLI do not require it, and the model itself checks which
	// combinations it takes (the recommend plugin takes "user" or
	// "item"). An Optional output is one a response may leave out: a list
	// of events when there are none (the kws plugin's detections), since
	// no tensor has a dimension of 0.
	Optional bool
}

// Tensor is a named tensor with Open Inference Protocol semantics: data in
// row-major order in the field of its datatype.
type Tensor struct {
	Name     string
	Datatype string
	Shape    []int64
	FP32     []float32
	INT64    []int64
	INT32    []int32
	BYTES    [][]byte
	BOOL     []bool
}

// InferRequest is one inference: named inputs, optional parameters and,
// optionally, the outputs wanted (none: all).
type InferRequest struct {
	ID         string
	Inputs     []Tensor
	Parameters map[string]string
	Outputs    []string
}

// InferResponse is the answer to an InferRequest.
type InferResponse struct {
	ID           string
	ModelName    string
	ModelVersion string
	Outputs      []Tensor
	Parameters   map[string]string
}

// Input returns the request's input named name, or nil.
func (r *InferRequest) Input(name string) *Tensor {
	for i := range r.Inputs {
		if r.Inputs[i].Name == name {
			return &r.Inputs[i]
		}
	}
	return nil
}

// BytesTensor returns the BYTES tensor named name holding texts, one
// element per string, of shape [len(texts)]: BYTES data is [][]byte, one
// []byte (UTF-8 for text) per element.
//
//	req := &sdk.InferRequest{Inputs: []sdk.Tensor{sdk.BytesTensor("text", "great phone", "a waste")}}
func BytesTensor(name string, texts ...string) Tensor {
	b := make([][]byte, len(texts))
	for i, s := range texts {
		b[i] = []byte(s)
	}
	return Tensor{Name: name, Datatype: BYTES, Shape: []int64{int64(len(texts))}, BYTES: b}
}
