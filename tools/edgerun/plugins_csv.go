package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/features"
	"github.com/edgerun/edgerun/sdk"
)

// csvPluginRequest builds the request of `plugins infer --csv`: one
// column per input of the plugin's description, named like the input
// (without a header, the inputs in the description's order), read by
// readCSV as run --csv reads a table, and every row of the table in one
// request (each input of shape [n]). A numeric input (FP32) takes
// finite numbers, a missing value sent as NaN; a categorical one (BYTES
// with categories) one of its categories, a missing value sent as "NA"
// (the tabular plugins impute both); an id (INT64, INT32) an integer; a
// text input (BYTES without categories) any text. Each input must take
// one value a row (shape [-1]).
func csvPluginRequest(d *sdk.Description, r io.Reader, lim requestLimits) (*sdk.InferRequest, error) {
	if len(d.Inputs) == 0 {
		return nil, fmt.Errorf("%s takes no inputs", d.Name)
	}
	cols := make([]csvColumn, len(d.Inputs))
	for i, s := range d.Inputs {
		if len(s.Shape) != 1 || s.Shape[0] != -1 {
			return nil, fmt.Errorf("--csv needs a plugin whose inputs take one value a row (shape [-1]); %s's input %q is %s %s (use --input)", d.Name, s.Name, s.Datatype, sdk.ShapeString(s.Shape))
		}
		c := csvColumn{Name: s.Name}
		switch {
		case s.Datatype == sdk.FP32:
			c.Kind, c.MissingOK = csvNumber, true
		case s.Datatype == sdk.INT64 || s.Datatype == sdk.INT32:
			c.Kind = csvInteger
		case s.Datatype == sdk.BYTES && len(s.Categories) > 0:
			c.Kind, c.Categories, c.MissingOK = csvCategory, s.Categories, true
		case s.Datatype == sdk.BYTES:
			c.Kind = csvText
		default:
			return nil, fmt.Errorf("--csv cannot fill %s's input %q: %s", d.Name, s.Name, s.Datatype)
		}
		cols[i] = c
	}
	ts := make([]sdk.Tensor, len(d.Inputs))
	for i, s := range d.Inputs {
		ts[i] = sdk.Tensor{Name: s.Name, Datatype: s.Datatype}
	}
	rows, err := readCSV(r, d.Name, cols, lim, func(fields []string) error {
		for i, f := range fields {
			t := &ts[i]
			switch t.Datatype {
			case sdk.FP32:
				v, ok := features.ParseNumber(f)
				if !ok { // missing: readCSV let only that through
					v = math.NaN()
				}
				t.FP32 = append(t.FP32, float32(v))
			case sdk.INT64, sdk.INT32:
				v, _ := strconv.ParseInt(strings.TrimSpace(f), 10, 64) // checked
				if t.Datatype == sdk.INT32 {
					if v != int64(int32(v)) {
						return fmt.Errorf("column %q: %d is out of the INT32 range", t.Name, v)
					}
					t.INT32 = append(t.INT32, int32(v))
				} else {
					t.INT64 = append(t.INT64, v)
				}
			default:
				if cols[i].Kind == csvCategory {
					if features.IsMissing(f) {
						f = "NA"
					}
					f = strings.TrimSpace(f)
				}
				t.BYTES = append(t.BYTES, []byte(f))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].Shape = []int64{int64(rows)}
	}
	return &sdk.InferRequest{Inputs: ts}, nil
}

// csvSource is the open --csv table of plugins infer.
type csvSource struct {
	io.ReadCloser
	name string // how errors name it
}

// openCSV opens --csv before the plugin starts, and refuses --set with it.
func (c *pluginsInferCmd) openCSV() (*csvSource, error) {
	if len(c.Set) > 0 {
		return nil, errors.New("--set and --csv: give the values as columns of the table")
	}
	f, name, err := openInput(c.CSV)
	if err != nil {
		return nil, err
	}
	return &csvSource{f, name}, nil
}

// csvRequest reads the --csv table into the plugin's request
// (csvPluginRequest), with the --param parameters.
func (c *pluginsInferCmd) csvRequest(d *sdk.Description, table *csvSource) (*sdk.InferRequest, error) {
	lim := requestLimits{Bytes: c.MaxRequestBytes, Elements: int(format.DefaultMaxElements), Flag: maxRequestFlag}
	req, err := csvPluginRequest(d, table, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table.name, err)
	}
	req.Parameters = c.Param
	return req, nil
}
