package lexicon_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReadmeSnippets keeps sdk/README.md honest: every ```go block in it
// starts with a line "// <path>" naming a file under sdk/, and the rest of
// the block is exactly that file. The files are this example's code
// (compiled by go vet and go build, and run by TestConformance and
// TestBinary), so a snippet that does not compile, or a model that fails
// the conformance suite, cannot stay in the README.
func TestReadmeSnippets(t *testing.T) {
	const sdkDir = "../.."
	readme, err := os.ReadFile(filepath.Join(sdkDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(t, string(readme))
	if len(blocks) < 4 {
		t.Fatalf("sdk/README.md has %d ```go blocks, want the model, main, the host and the test", len(blocks))
	}
	seen := map[string]bool{}
	for _, b := range blocks {
		first, body, _ := strings.Cut(b.text, "\n")
		path, ok := strings.CutPrefix(first, "// ")
		if !ok || !strings.HasSuffix(path, ".go") || strings.Contains(path, " ") {
			t.Errorf("README.md line %d: the ```go block starts with %q, not // <file under sdk/>.go", b.line, first)
			continue
		}
		if seen[path] {
			t.Errorf("README.md line %d: %s is shown twice", b.line, path)
		}
		seen[path] = true
		file, err := os.ReadFile(filepath.Join(sdkDir, filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("README.md line %d: %v", b.line, err)
			continue
		}
		if body != string(file) {
			t.Errorf("README.md line %d: the block differs from sdk/%s; copy the file into the README\n%s", b.line, path, firstDiff(body, string(file)))
		}
	}
}

type block struct {
	line int // of the opening fence, 1-based
	text string
}

// goBlocks returns the ```go fenced blocks of a Markdown text, each ending
// in a newline.
func goBlocks(t *testing.T, md string) []block {
	var out []block
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i
		var b strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			t.Fatalf("README.md line %d: unclosed ```go block", start+1)
		}
		out = append(out, block{line: start + 1, text: b.String()})
	}
	return out
}

// firstDiff names the first line where the README block and the file differ.
func firstDiff(readme, file string) string {
	a, b := strings.Split(readme, "\n"), strings.Split(file, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + " of the file:\n README: " + strconv.Quote(x) + "\n   file: " + strconv.Quote(y)
		}
	}
	return ""
}
