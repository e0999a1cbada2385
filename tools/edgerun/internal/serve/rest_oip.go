package serve

import (
	"slices"
	"strings"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// RequestFromOIP maps a decoded Open Inference Protocol request onto a
// model's (an sdk.Model: an .erm served in process or a plugin): its id,
// inputs and parameters as they are (the model validates the parameters;
// its description lists those it understands), and the outputs it asks
// for, which the description must have. A missing value (null, "NaN",
// "NA") of FP32 data goes to the model as NaN, and whether it is imputed
// or refused is the model's decision (the tabular models impute, the
// others refuse NaN). Other datatypes cannot carry one: it is refused (in
// BYTES data, the string "NA" is a string, which the tabular models read
// as missing; null is not turned into it, since a text input would take
// it as text). Input and output parameters have no place in an
// sdk.InferRequest: they are refused. Every error matches
// sdk.ErrInvalidInput.
//
// `edgerun plugins infer` and the daemon's front ends share it.
func RequestFromOIP(d *sdk.Description, r *oip.Request) (*sdk.InferRequest, error) {
	req := &sdk.InferRequest{ID: r.ID, Parameters: r.Parameters, Inputs: make([]sdk.Tensor, 0, len(r.Inputs))}
	for _, o := range r.Outputs {
		if !slices.ContainsFunc(d.Outputs, func(s sdk.TensorSpec) bool { return s.Name == o.Name }) {
			return nil, sdk.InvalidInputf("%s has no output %q (outputs: %s)", d.Name, o.Name, specNames(d.Outputs))
		}
		if len(o.Parameters) > 0 {
			return nil, sdk.InvalidInputf("output %q: models take no output parameters (%s)", o.Name, oip.QuoteKeys(o.Parameters))
		}
		req.Outputs = append(req.Outputs, o.Name)
	}
	for _, in := range r.Inputs {
		if len(in.Parameters) > 0 {
			return nil, sdk.InvalidInputf("%s: models take no input parameters (%s)", in.Label(), oip.QuoteKeys(in.Parameters))
		}
		t := sdk.Tensor{Name: in.Name, Datatype: in.Datatype, Shape: in.Shape,
			FP32: in.FP32, INT64: in.INT64, INT32: in.INT32, BOOL: in.BOOL, BYTES: in.BYTES}
		if i := in.FirstMissing(); i >= 0 && in.Datatype != sdk.FP32 { // FP32: NaN already
			hint := ""
			if in.Datatype == sdk.BYTES {
				hint = `; send the string "NA" where the model imputes`
			}
			return nil, sdk.InvalidInputf("%s: data[%d] is a missing value (null, \"NaN\" or \"NA\"), which %s data cannot carry (FP32 sends it as NaN%s)", in.Label(), i, in.Datatype, hint)
		}
		req.Inputs = append(req.Inputs, t)
	}
	return req, nil
}

// ResponseOIP is a model's response for oip.WriteResponse (sharing its
// data).
func ResponseOIP(r *sdk.InferResponse) *oip.Response {
	out := &oip.Response{ModelName: r.ModelName, ModelVersion: r.ModelVersion, ID: r.ID, Parameters: r.Parameters, Outputs: make([]oip.Tensor, len(r.Outputs))}
	for i, t := range r.Outputs {
		out.Outputs[i] = oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape, FP32: t.FP32, INT64: t.INT64, INT32: t.INT32, BOOL: t.BOOL, BYTES: t.BYTES}
	}
	return out
}

func specNames(s []sdk.TensorSpec) string {
	var n []string
	for _, t := range s {
		n = append(n, t.Name+" "+t.Datatype)
	}
	return strings.Join(n, ", ")
}
