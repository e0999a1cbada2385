package kws

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgerun/edgerun/runtime/audio"
)

// Special labels.
const (
	Unknown = "_unknown_" // speech that is not a command word
	Silence = "_silence_" // no speech: background noise or quiet
	Noise   = "_noise_"   // a manifest row of recorded background noise
)

// Row is one manifest line.
type Row struct {
	File    string // path as written (relative to the manifest's folder)
	Path    string // path to open
	Label   string
	Speaker string // "" when the manifest has no speaker column
	Line    int    // 1-based line in the manifest
}

// ReadManifest reads a manifest CSV: a header with the columns file and
// label, optionally speaker (others are ignored), one clip a row, file
// paths relative to the manifest's folder.
func ReadManifest(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	hdr, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty manifest (want a header with file,label[,speaker])", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range hdr {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	fc, ok1 := col["file"]
	lc, ok2 := col["label"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: the header %q has no file and label columns", path, strings.Join(hdr, ","))
	}
	sc, hasSpk := col["speaker"]
	dir := filepath.Dir(path)
	var rows []Row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := Row{File: get(fc), Label: get(lc), Line: line}
		if hasSpk {
			row.Speaker = get(sc)
		}
		if row.File == "" || row.Label == "" {
			return nil, fmt.Errorf("%s: line %d: empty file or label", path, line)
		}
		row.Path = row.File
		if !filepath.IsAbs(row.Path) {
			row.Path = filepath.Join(dir, filepath.FromSlash(row.File))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no clips", path)
	}
	return rows, nil
}

// loadClip reads a row's WAV at rate (resampled when it differs).
func loadClip(row Row, rate int) ([]float32, error) {
	c, err := audio.ReadWAVFile(row.Path)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", row.Line, err)
	}
	if c, err = audio.Resample(c, rate); err != nil {
		return nil, fmt.Errorf("line %d: %s: %w", row.Line, row.File, err)
	}
	return c.Samples, nil
}
