package serve

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// Extensions are the protocol extensions the server supports, for its
// metadata (REST GET /v2 and gRPC ServerMetadata): Triton's binary
// tensor data extension, on REST.
func Extensions() []string { return []string{oip.ExtensionBinary} }

// binaryRequest reports whether a decoded request asks for binary
// outputs (or says it does not): a "binary_data_output" request
// parameter or a "binary_data" output parameter.
func binaryRequest(r *oip.Request) bool {
	if _, ok := r.Parameters[oip.ParamBinaryOutput]; ok {
		return true
	}
	for _, o := range r.Outputs {
		if _, ok := o.Parameters[oip.ParamBinaryData]; ok {
			return true
		}
	}
	return false
}

// binaryOutputs takes the extension's parameters out of a request (the
// model never sees them) and returns which outputs go back in binary: a
// requested output's "binary_data" if it has one, else the request's
// "binary_data_output"; names not in the map get the default.
func binaryOutputs(r *oip.Request) (map[string]bool, bool, error) {
	def := false
	if v, ok := r.Parameters[oip.ParamBinaryOutput]; ok {
		b, ok := jsonBool(v)
		if !ok {
			return nil, false, sdk.InvalidInputf("parameter %q must be a boolean, not %q", oip.ParamBinaryOutput, v)
		}
		def = b
		r.Parameters = without(r.Parameters, oip.ParamBinaryOutput)
	}
	per := map[string]bool{}
	for i := range r.Outputs {
		o := &r.Outputs[i]
		v, ok := o.Parameters[oip.ParamBinaryData]
		if !ok {
			continue
		}
		b, ok := jsonBool(v)
		if !ok {
			return nil, false, sdk.InvalidInputf("output %q: parameter %q must be a boolean, not %q", o.Name, oip.ParamBinaryData, v)
		}
		per[o.Name] = b
		o.Parameters = without(o.Parameters, oip.ParamBinaryData)
	}
	return per, def, nil
}

// jsonBool reads a parameter that must be a JSON boolean.
func jsonBool(v string) (b, ok bool) {
	return v == "true", v == "true" || v == "false"
}

// without is m without key (nil when nothing is left); m is not changed.
func without(m map[string]string, key string) map[string]string {
	if len(m) <= 1 {
		return nil
	}
	out := make(map[string]string, len(m)-1)
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// inferBinary answers an inference request of Triton's binary tensor
// data extension: with the Inference-Header-Content-Length header (or
// nil), it reads the body whole (within the body limit) and decodes it
// with oip.DecodeBinary; or is the request already decoded from JSON
// that asks for binary outputs. The response carries the outputs asked
// for in binary after its JSON (Content-Type application/octet-stream,
// the JSON's length in Inference-Header-Content-Length), or is JSON when
// none is.
func (h *handler) inferBinary(w http.ResponseWriter, r *http.Request, info ModelInfo, or *oip.Request) {
	lim := oip.Limits{Bytes: h.opt.MaxBodyBytes, Elements: h.opt.MaxElements}
	if or == nil {
		// One byte more than the cap, so the codec's own TooLargeError says it.
		body, err := io.ReadAll(oip.NewCapReader(http.MaxBytesReader(w, r.Body, h.opt.MaxBodyBytes+1), lim.Bytes, ""))
		if err != nil {
			h.fail(w, r, decodeError(err))
			return
		}
		n, err := oip.ParseHeaderLength(r.Header.Get(oip.HeaderContentLength), len(body))
		if err != nil {
			h.fail(w, r, sdk.InvalidInputf("%s", err.Error()))
			return
		}
		if or, err = oip.DecodeBinary(body, n, oip.Options{Limits: lim}); err != nil {
			h.fail(w, r, decodeError(err))
			return
		}
	}
	per, def, err := binaryOutputs(or)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp, ok := h.run(w, r, info, or)
	if !ok {
		return
	}
	out := ResponseOIP(resp)
	flags := make([]bool, len(out.Outputs))
	some := false
	for i, t := range out.Outputs {
		b, ok := per[t.Name]
		if !ok {
			b = def
		}
		flags[i] = b
		some = some || b
	}
	if !some {
		b := oip.AppendResponse(nil, out)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
		return
	}
	var buf bytes.Buffer
	n, err := oip.WriteBinaryResponse(&buf, out, flags)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(oip.HeaderContentLength, strconv.FormatInt(n, 10))
	_, _ = w.Write(buf.Bytes())
}
