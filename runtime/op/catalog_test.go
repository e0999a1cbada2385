package op

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCatalogListsEveryOperator: CATALOG.md's table names exactly the
// registered operators (Names), so an operator added without its row, or
// a row left for one removed, fails.
func TestCatalogListsEveryOperator(t *testing.T) {
	b, err := os.ReadFile("CATALOG.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("`([A-Za-z0-9]+)`")
	var listed []string
	for line := range strings.Lines(string(b)) {
		// Table rows: "| `Op`, `Op2` | inputs | ...".
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			listed = append(listed, m[1])
		}
	}
	slices.Sort(listed)
	if reg := Names(); !slices.Equal(listed, reg) {
		t.Errorf("CATALOG.md lists %v\nregistered: %v", listed, reg)
	}
}
