package boards

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestReadme keeps README.md's profiles table and build lines in step
// with the registered profiles.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, board := range All() {
		p := board.Profile()
		gpio, i2c := "-", "-"
		if p.GPIO.Device != "" {
			gpio = fmt.Sprintf("%s (%s)", strings.TrimPrefix(p.GPIO.Device, "/dev/"), p.GPIO.Label)
		}
		if len(p.I2C) > 0 {
			i2c = p.I2C[0].Device
		}
		row := fmt.Sprintf("| `%s` | %s | %d | %d | %s | %d MiB | %s | %s |",
			p.Name, p.Target(), p.Cores, p.Threads, p.Kernel, p.MemoryBudget>>20, gpio, i2c)
		if !strings.Contains(readme, row) {
			t.Errorf("README.md lacks the row\n%s", row)
		}
		if cmd := "`" + p.BuildCommand() + "`"; !strings.Contains(readme, cmd) {
			t.Errorf("README.md lacks the build line %s", cmd)
		}
	}
}
