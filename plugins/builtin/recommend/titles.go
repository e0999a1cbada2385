package recommend

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// TitlesEnv names the environment variable New reads: the path of a
// titles CSV (see ReadTitles). When it is set, responses carry
// OutTitles beside the ids; a file that cannot be read stops the plugin
// at start with the reason.
const TitlesEnv = "EDGERUN_RECOMMEND_TITLES"

// OutTitles is the output of movie titles, BYTES [n, k] beside
// OutItemIDs ("" for an id the titles file does not list), present when
// a titles file is given.
const OutTitles = "titles"

// maxTitles bounds the rows read from a titles file.
const maxTitles = 1 << 20

// Option configures NewModel.
type Option func(*options)

type options struct {
	titles    string
	titlesSet bool
}

// WithTitles makes the model answer titles from the CSV at path (see
// ReadTitles), whatever TitlesEnv says; "" turns titles off.
func WithTitles(path string) Option {
	return func(o *options) { o.titles, o.titlesSet = path, true }
}

// ReadTitles reads a titles CSV with a header: an id column (movieId,
// else the first column) and a title column (title); with a year column
// the title reads "Title (year)". The bundled
// data/recommendation/movielens_small/movies.csv is one.
func ReadTitles(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recommend: titles: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("recommend: titles %s: the header: %w", path, err)
	}
	idc, tc, yc := 0, -1, -1
	for i, h := range head {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "movieId", "item", "id":
			idc = i
		case "title":
			tc = i
		case "year":
			yc = i
		}
	}
	if tc < 0 {
		return nil, fmt.Errorf("recommend: titles %s: no %q column in the header %q", path, "title", head)
	}
	titles := map[string]string{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("recommend: titles %s: %w", path, err)
		}
		if len(titles) >= maxTitles {
			return nil, fmt.Errorf("recommend: titles %s: more than %d rows", path, maxTitles)
		}
		if idc >= len(rec) || tc >= len(rec) {
			return nil, fmt.Errorf("recommend: titles %s:%d: %d fields, want the id (column %d) and title (column %d)", path, line, len(rec), idc+1, tc+1)
		}
		t := strings.TrimSpace(rec[tc])
		if yc >= 0 && yc < len(rec) && strings.TrimSpace(rec[yc]) != "" {
			t += " (" + strings.TrimSpace(rec[yc]) + ")"
		}
		titles[strings.TrimSpace(rec[idc])] = t
	}
	if len(titles) == 0 {
		return nil, fmt.Errorf("recommend: titles %s: no rows", path)
	}
	return titles, nil
}
