package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/runtime/audio"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train/kws"
)

// evalStreamCmd is `edgetrain eval-stream`.
type evalStreamCmd struct {
	Truth      string  `name:"truth" required:"" placeholder:"truth.csv" help:"The stream's truth (edgetrain datasets kws-stream): label, word, start_s, end_s."`
	Detections string  `name:"detections" required:"" placeholder:"FILE" help:"edgerun listen's JSON lines (keyword, confidence, time_s); - reads standard input."`
	Late       float64 `name:"late" default:"1.5" help:"A detection counts for a word when it comes after the word starts and at most this many seconds after it ends."`
	Seconds    float64 `name:"seconds" placeholder:"S" help:"The stream's length, for the false accepts per hour (default: the end of the last word plus 1 s)."`
	JSON       bool    `name:"json" help:"Print one JSON object."`
}

type evalStreamReport struct {
	Commands     int     `json:"commands"`
	Hits         int     `json:"hits"`
	Misses       int     `json:"misses"`
	FalseAccepts int     `json:"false_accepts"`
	Seconds      float64 `json:"seconds"`
	FalsePerHour float64 `json:"false_accepts_per_hour"`
}

func (c *evalStreamCmd) Run(env *cliutil.Env) error {
	truth, err := readTruth(c.Truth)
	if err != nil {
		return fmt.Errorf("eval-stream: %w", err)
	}
	var r io.Reader = os.Stdin
	if c.Detections != "-" {
		f, err := os.Open(c.Detections)
		if err != nil {
			return fmt.Errorf("eval-stream: %w", err)
		}
		defer f.Close()
		r = f
	}
	var dets []audio.Detection
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var d struct {
			Keyword    string  `json:"keyword"`
			Confidence float32 `json:"confidence"`
			Time       float64 `json:"time_s"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return fmt.Errorf("eval-stream: %s: line %d: %w", c.Detections, line, err)
		}
		dets = append(dets, audio.Detection{Keyword: d.Keyword, Confidence: d.Confidence, Time: d.Time})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval-stream: %w", err)
	}
	secs := c.Seconds
	if secs <= 0 && len(truth) > 0 {
		secs = truth[len(truth)-1].End + 1
	}
	s := kws.ScoreStream(truth, dets, secs, c.Late)
	rep := evalStreamReport{s.Commands, s.Hits, s.Misses, s.FalseAccepts, secs, s.FalsePerHour}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, rep)
	}
	byTruth := map[int]audio.Detection{}
	for i, k := range s.Matched {
		if k >= 0 {
			byTruth[k] = dets[i]
		}
	}
	w := env.Stdout
	fmt.Fprintf(w, "%-10s %-8s %-16s %s\n", "said", "class", "speech (s)", "heard")
	for i, t := range truth {
		heard := "-"
		if d, ok := byTruth[i]; ok {
			heard = fmt.Sprintf("%s at %.2f s (%.2f)", d.Keyword, d.Time, d.Confidence)
		} else if t.Label != kws.Unknown {
			heard = "MISSED"
		}
		fmt.Fprintf(w, "%-10s %-8s %6.2f – %6.2f  %s\n", t.Word, strings.Trim(t.Label, "_"), t.Start, t.End, heard)
	}
	for i, k := range s.Matched {
		if k < 0 {
			fmt.Fprintf(w, "false accept: %s at %.2f s (%.2f)\n", dets[i].Keyword, dets[i].Time, dets[i].Confidence)
		}
	}
	_, err = fmt.Fprintf(w, "%d of %d command words detected, %d missed; %d false accepts in %.1f s (%.0f per hour)\n",
		s.Hits, s.Commands, s.Misses, s.FalseAccepts, secs, s.FalsePerHour)
	return err
}

// readTruth reads a truth.csv of edgetrain datasets kws-stream.
func readTruth(path string) ([]kws.StreamWord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 1 || len(recs[0]) < 4 || recs[0][0] != "label" || recs[0][2] != "start_s" || recs[0][3] != "end_s" {
		return nil, fmt.Errorf("%s: want the header label,word,start_s,end_s[,file]", path)
	}
	var out []kws.StreamWord
	for i, r := range recs[1:] {
		a, err1 := strconv.ParseFloat(r[2], 64)
		b, err2 := strconv.ParseFloat(r[3], 64)
		if err1 != nil || err2 != nil || b < a {
			return nil, fmt.Errorf("%s: line %d: start_s %q, end_s %q", path, i+2, r[2], r[3])
		}
		out = append(out, kws.StreamWord{Label: r[0], Word: r[1], Start: a, End: b})
	}
	return out, nil
}
