package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// llvmMC holds what
//
//	llvm-mc -triple=aarch64 -mattr=+dotprod -show-encoding
//
// (LLVM 14.0.6) printed for every instruction the generated kernels use and
// for the other forms the encoders offer, as text (whitespace collapsed)
// and the little-endian word of the four encoding bytes. The test needs no
// llvm-mc; to refresh after adding instructions:
//
//	grep -ho 'WORD .*' ../gemm_*_arm64.s | sed 's|.*// ||' | sort -u |
//		llvm-mc -triple=aarch64 -mattr=+dotprod -show-encoding
var llvmMC = []struct {
	text string
	word uint32
}{
	{"sadalp v0.4s, v24.8h", 0x4e606b00},
	{"sadalp v1.4s, v25.8h", 0x4e606b21},
	{"sadalp v1.8h, v2.16b", 0x4e206841},
	{"sadalp v10.4s, v27.8h", 0x4e606b6a},
	{"sadalp v11.4s, v28.8h", 0x4e606b8b},
	{"sadalp v12.4s, v29.8h", 0x4e606bac},
	{"sadalp v13.4s, v30.8h", 0x4e606bcd},
	{"sadalp v14.4s, v24.8h", 0x4e606b0e},
	{"sadalp v15.4s, v25.8h", 0x4e606b2f},
	{"sadalp v15.4s, v27.8h", 0x4e606b6f},
	{"sadalp v2.4s, v26.8h", 0x4e606b42},
	{"sadalp v3.2d, v4.4s", 0x4ea06883},
	{"sadalp v3.4s, v27.8h", 0x4e606b63},
	{"sadalp v4.4s, v28.8h", 0x4e606b84},
	{"sadalp v5.4s, v29.8h", 0x4e606ba5},
	{"sadalp v6.4s, v30.8h", 0x4e606bc6},
	{"sadalp v7.4s, v24.8h", 0x4e606b07},
	{"sadalp v8.4s, v25.8h", 0x4e606b28},
	{"sadalp v9.4s, v26.8h", 0x4e606b49},
	{"sdot v0.4s, v1.16b, v2.16b", 0x4e829420},
	{"sdot v0.4s, v1.16b, v2.4b[0]", 0x4f82e020},
	{"sdot v0.4s, v16.16b, v20.16b", 0x4e949600},
	{"sdot v1.4s, v16.16b, v21.16b", 0x4e959601},
	{"sdot v10.4s, v18.16b, v22.16b", 0x4e96964a},
	{"sdot v11.4s, v18.16b, v23.16b", 0x4e97964b},
	{"sdot v12.4s, v19.16b, v20.16b", 0x4e94966c},
	{"sdot v12.4s, v20.16b, v31.4b[1]", 0x4fbfe28c},
	{"sdot v13.4s, v19.16b, v21.16b", 0x4e95966d},
	{"sdot v14.4s, v19.16b, v22.16b", 0x4e96966e},
	{"sdot v15.4s, v19.16b, v23.16b", 0x4e97966f},
	{"sdot v2.4s, v16.16b, v22.16b", 0x4e969602},
	{"sdot v3.4s, v16.16b, v23.16b", 0x4e979603},
	{"sdot v3.4s, v17.16b, v9.4b[3]", 0x4fa9ea23},
	{"sdot v31.4s, v31.16b, v31.16b", 0x4e9f97ff},
	{"sdot v4.4s, v17.16b, v20.16b", 0x4e949624},
	{"sdot v5.4s, v16.16b, v20.16b", 0x4e949605},
	{"sdot v5.4s, v17.16b, v21.16b", 0x4e959625},
	{"sdot v6.4s, v17.16b, v22.16b", 0x4e969626},
	{"sdot v7.4s, v17.16b, v23.16b", 0x4e979627},
	{"sdot v7.4s, v8.16b, v16.4b[2]", 0x4f90e907},
	{"sdot v8.4s, v18.16b, v20.16b", 0x4e949648},
	{"sdot v9.4s, v18.16b, v21.16b", 0x4e959649},
	{"smlal v0.2d, v1.2s, v2.2s", 0x0ea28020},
	{"smlal v0.4s, v1.4h, v2.4h", 0x0e628020},
	{"smlal v1.8h, v2.8b, v3.8b", 0x0e238041},
	{"smlal2 v0.4s, v1.8h, v2.8h", 0x4e628020},
	{"smlal2 v24.8h, v16.16b, v20.16b", 0x4e348218},
	{"smlal2 v24.8h, v17.16b, v23.16b", 0x4e378238},
	{"smlal2 v24.8h, v19.16b, v22.16b", 0x4e368278},
	{"smlal2 v25.8h, v16.16b, v21.16b", 0x4e358219},
	{"smlal2 v25.8h, v18.16b, v20.16b", 0x4e348259},
	{"smlal2 v25.8h, v19.16b, v23.16b", 0x4e378279},
	{"smlal2 v26.8h, v16.16b, v22.16b", 0x4e36821a},
	{"smlal2 v26.8h, v18.16b, v21.16b", 0x4e35825a},
	{"smlal2 v27.8h, v16.16b, v23.16b", 0x4e37821b},
	{"smlal2 v27.8h, v18.16b, v22.16b", 0x4e36825b},
	{"smlal2 v28.8h, v17.16b, v20.16b", 0x4e34823c},
	{"smlal2 v28.8h, v18.16b, v23.16b", 0x4e37825c},
	{"smlal2 v29.8h, v17.16b, v21.16b", 0x4e35823d},
	{"smlal2 v29.8h, v19.16b, v20.16b", 0x4e34827d},
	{"smlal2 v30.8h, v17.16b, v22.16b", 0x4e36823e},
	{"smlal2 v30.8h, v19.16b, v21.16b", 0x4e35827e},
	{"smlal2 v30.8h, v19.16b, v23.16b", 0x4e37827e},
	{"smull v0.4s, v1.4h, v2.4h", 0x0e62c020},
	{"smull v0.8h, v31.8b, v15.8b", 0x0e2fc3e0},
	{"smull v24.8h, v16.8b, v20.8b", 0x0e34c218},
	{"smull v24.8h, v17.8b, v23.8b", 0x0e37c238},
	{"smull v24.8h, v19.8b, v22.8b", 0x0e36c278},
	{"smull v25.8h, v16.8b, v21.8b", 0x0e35c219},
	{"smull v25.8h, v18.8b, v20.8b", 0x0e34c259},
	{"smull v25.8h, v19.8b, v23.8b", 0x0e37c279},
	{"smull v26.8h, v16.8b, v22.8b", 0x0e36c21a},
	{"smull v26.8h, v18.8b, v21.8b", 0x0e35c25a},
	{"smull v27.8h, v16.8b, v23.8b", 0x0e37c21b},
	{"smull v27.8h, v18.8b, v22.8b", 0x0e36c25b},
	{"smull v28.8h, v17.8b, v20.8b", 0x0e34c23c},
	{"smull v28.8h, v18.8b, v23.8b", 0x0e37c25c},
	{"smull v29.8h, v17.8b, v21.8b", 0x0e35c23d},
	{"smull v29.8h, v19.8b, v20.8b", 0x0e34c27d},
	{"smull v30.8h, v17.8b, v22.8b", 0x0e36c23e},
	{"smull v30.8h, v19.8b, v21.8b", 0x0e35c27e},
	{"smull2 v0.2d, v1.4s, v2.4s", 0x4ea2c020},
	{"smull2 v24.8h, v16.16b, v20.16b", 0x4e34c218},
	{"uadalp v0.4s, v1.8h", 0x6e606820},
	{"uadalp v2.8h, v3.16b", 0x6e206862},
	{"udot v0.4s, v1.16b, v2.16b", 0x6e829420},
	{"udot v9.4s, v18.16b, v27.4b[2]", 0x6f9bea49},
	{"umlal v3.8h, v4.8b, v5.8b", 0x2e258083},
	{"umull v1.8h, v2.8b, v3.8b", 0x2e23c041},
	{"umull v30.4s, v29.4h, v28.4h", 0x2e7cc3be},
}

var operand = regexp.MustCompile(`^v(\d+)\.(\d+)([bhsd])(?:\[(\d)\])?$`)

// encodeText calls the encoder for one instruction in LLVM syntax.
func encodeText(t *testing.T, text string) Inst {
	t.Helper()
	mn, rest, _ := strings.Cut(text, " ")
	var regs []V
	var sizes []Size
	idx := -1
	for _, op := range strings.Split(rest, ", ") {
		m := operand.FindStringSubmatch(op)
		if m == nil {
			t.Fatalf("%s: cannot parse operand %q", text, op)
		}
		r, _ := strconv.Atoi(m[1])
		regs = append(regs, V(r))
		sizes = append(sizes, Size(strings.IndexByte("bhsd", m[3][0])))
		if m[4] != "" {
			idx, _ = strconv.Atoi(m[4])
		}
	}
	switch mn {
	case "sdot", "udot":
		d, n, m := regs[0], regs[1], regs[2]
		switch {
		case mn == "sdot" && idx < 0:
			return SDOT(d, n, m)
		case mn == "sdot":
			return SDOTElem(d, n, m, idx)
		case idx < 0:
			return UDOT(d, n, m)
		default:
			return UDOTElem(d, n, m, idx)
		}
	case "sadalp":
		return SADALP(sizes[1], regs[0], regs[1])
	case "uadalp":
		return UADALP(sizes[1], regs[0], regs[1])
	}
	long := map[string]func(Size, V, V, V) Inst{
		"smull": SMULL, "smull2": SMULL2, "smlal": SMLAL, "smlal2": SMLAL2,
		"umull": UMULL, "umlal": UMLAL,
	}
	f, ok := long[mn]
	if !ok {
		t.Fatalf("%s: no encoder for %q", text, mn)
	}
	return f(sizes[1], regs[0], regs[1], regs[2])
}

// TestEncodings checks every encoder against llvm-mc's words and text.
func TestEncodings(t *testing.T) {
	for _, e := range llvmMC {
		got := encodeText(t, e.text)
		if got.Word != e.word || got.Text != e.text {
			t.Errorf("%s: encoded 0x%08x %q, llvm-mc 0x%08x", e.text, got.Word, got.Text, e.word)
		}
	}
}

var wordLine = regexp.MustCompile(`WORD \$0x([0-9a-f]{8}) // (.*)$`)

// TestGenerated checks that the committed kernels are what the generator
// writes now (run go generate after changing it), and that every WORD in
// them is an encoding llvm-mc produced for the instruction in its comment.
func TestGenerated(t *testing.T) {
	known := map[string]uint32{}
	for _, e := range llvmMC {
		known[e.text] = e.word
	}
	for _, kernel := range []string{"neon", "sdot"} {
		src, err := generate(kernel)
		if err != nil {
			t.Fatal(err)
		}
		file := fmt.Sprintf("../gemm_%s_arm64.s", kernel)
		committed, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(committed) != string(src) {
			t.Errorf("%s differs from the generator's output: run go generate in _gen", file)
		}
		words := 0
		for _, l := range strings.Split(string(src), "\n") {
			m := wordLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			words++
			w, _ := strconv.ParseUint(m[1], 16, 32)
			if want, ok := known[m[2]]; !ok {
				t.Errorf("%s: %q is not in the llvm-mc table", file, m[2])
			} else if uint32(w) != want {
				t.Errorf("%s: %s is 0x%08x, llvm-mc says 0x%08x", file, m[2], w, want)
			}
		}
		if words == 0 {
			t.Errorf("%s: no WORD lines", file)
		}
	}
}

// TestInnerLoops reports the k loops' instructions per int8
// multiply-accumulate (16 bytes per row and column per iteration).
func TestInnerLoops(t *testing.T) {
	for _, kernel := range []string{"neon", "sdot"} {
		src, err := generate(kernel)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []struct {
			label     string
			rows, col int
		}{{"kloop", 4, 4}, {"gkloop", 1, 4}} {
			n := len(inner(src, l.label))
			macs := 16 * l.rows * l.col
			t.Logf("%s %s (%d×%d tile): %d instructions per %d MACs = %.3f per MAC", kernel, l.label, l.rows, l.col, n, macs, float64(n)/float64(macs))
			if n == 0 {
				t.Errorf("%s: no %s", kernel, l.label)
			}
		}
	}
}
