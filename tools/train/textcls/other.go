package textcls

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/edgerun/edgerun/tools/train/csvdata"
)

// OtherLabel is the class FitOptions.Other's out-of-domain lines are
// trained as: a model with it answers "_other_" (out of scope) for text
// unlike every real class.
const OtherLabel = "_other_"

// maxOtherLines bounds the lines read from an out-of-domain file.
const maxOtherLines = 1 << 20

// addOther appends the non-blank lines of the text file at path to tbl
// as rows of text column tc labelled OtherLabel in column lc, and returns
// rows with their positions added: they join the training rows only
// (validation comes out of them, the test split never does).
func addOther(tbl *csvdata.Table, tc, lc int, path string, rows []int) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("textcls: out-of-domain text: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, line := 0, 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		if n++; n > maxOtherLines {
			return nil, fmt.Errorf("textcls: %s: more than %d out-of-domain lines", path, maxOtherLines)
		}
		row := make([]string, len(tbl.Header))
		row[tc], row[lc] = s, OtherLabel
		rows = append(rows, len(tbl.Rows))
		tbl.Rows = append(tbl.Rows, row)
		tbl.Lines = append(tbl.Lines, line)
		tbl.Index = append(tbl.Index, -1)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("textcls: %s: %w", path, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("textcls: %s: no out-of-domain lines", path)
	}
	return rows, nil
}
