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
//	grep -ho 'WORD .*' ../*_arm64.s | sed 's|.*// ||' | sort -u |
//		llvm-mc -triple=aarch64 -mattr=+dotprod -show-encoding
var llvmMC = []struct {
	text string
	word uint32
}{
	{"cmgt v6.4s, v30.4s, v7.4s", 0x4ea737c6},
	{"fabs v1.4s, v0.4s", 0x4ea0f801},
	{"fabs v5.4s, v0.4s", 0x4ea0f805},
	{"fadd v0.4s, v0.4s, v1.4s", 0x4e21d400},
	{"fadd v0.4s, v0.4s, v19.4s", 0x4e33d400},
	{"fadd v0.4s, v0.4s, v2.4s", 0x4e22d400},
	{"fadd v0.4s, v0.4s, v28.4s", 0x4e3cd400},
	{"fadd v0.4s, v0.4s, v4.4s", 0x4e24d400},
	{"fadd v0.4s, v0.4s, v6.4s", 0x4e26d400},
	{"fadd v0.4s, v0.4s, v8.4s", 0x4e28d400},
	{"fadd v1.4s, v0.4s, v0.4s", 0x4e20d401},
	{"fadd v1.4s, v1.4s, v19.4s", 0x4e33d421},
	{"fadd v1.4s, v1.4s, v28.4s", 0x4e3cd421},
	{"fadd v1.4s, v1.4s, v3.4s", 0x4e23d421},
	{"fadd v1.4s, v1.4s, v5.4s", 0x4e25d421},
	{"fadd v1.4s, v1.4s, v7.4s", 0x4e27d421},
	{"fadd v1.4s, v1.4s, v9.4s", 0x4e29d421},
	{"fadd v2.4s, v2.4s, v17.4s", 0x4e31d442},
	{"fadd v2.4s, v2.4s, v21.4s", 0x4e35d442},
	{"fadd v2.4s, v2.4s, v22.4s", 0x4e36d442},
	{"fadd v2.4s, v2.4s, v23.4s", 0x4e37d442},
	{"fadd v2.4s, v2.4s, v24.4s", 0x4e38d442},
	{"fadd v2.4s, v2.4s, v25.4s", 0x4e39d442},
	{"fadd v2.4s, v2.4s, v5.4s", 0x4e25d442},
	{"fadd v3.4s, v2.4s, v25.4s", 0x4e39d443},
	{"fadd v3.4s, v3.4s, v17.4s", 0x4e31d463},
	{"fadd v3.4s, v3.4s, v19.4s", 0x4e33d463},
	{"fadd v3.4s, v3.4s, v21.4s", 0x4e35d463},
	{"fadd v3.4s, v3.4s, v22.4s", 0x4e36d463},
	{"fadd v3.4s, v3.4s, v23.4s", 0x4e37d463},
	{"fadd v4.4s, v2.4s, v25.4s", 0x4e39d444},
	{"fadd v4.4s, v4.4s, v0.4s", 0x4e20d484},
	{"fadd v4.4s, v4.4s, v10.4s", 0x4e2ad484},
	{"fadd v4.4s, v4.4s, v11.4s", 0x4e2bd484},
	{"fadd v4.4s, v4.4s, v12.4s", 0x4e2cd484},
	{"fadd v4.4s, v4.4s, v13.4s", 0x4e2dd484},
	{"fadd v4.4s, v4.4s, v19.4s", 0x4e33d484},
	{"fadd v4.4s, v4.4s, v25.4s", 0x4e39d484},
	{"fadd v4.4s, v4.4s, v26.4s", 0x4e3ad484},
	{"fadd v4.4s, v4.4s, v27.4s", 0x4e3bd484},
	{"fadd v5.4s, v5.4s, v1.4s", 0x4e21d4a5},
	{"fadd v6.4s, v6.4s, v19.4s", 0x4e33d4c6},
	{"fadd v6.4s, v6.4s, v2.4s", 0x4e22d4c6},
	{"fadd v6.4s, v6.4s, v21.4s", 0x4e35d4c6},
	{"fadd v6.4s, v6.4s, v22.4s", 0x4e36d4c6},
	{"fadd v6.4s, v6.4s, v23.4s", 0x4e37d4c6},
	{"fadd v6.4s, v6.4s, v8.4s", 0x4e28d4c6},
	{"fadd v7.4s, v7.4s, v19.4s", 0x4e33d4e7},
	{"fadd v7.4s, v7.4s, v25.4s", 0x4e39d4e7},
	{"fadd v7.4s, v7.4s, v26.4s", 0x4e3ad4e7},
	{"fadd v7.4s, v7.4s, v27.4s", 0x4e3bd4e7},
	{"fadd v7.4s, v7.4s, v3.4s", 0x4e23d4e7},
	{"fadd v7.4s, v7.4s, v9.4s", 0x4e29d4e7},
	{"fadd v8.4s, v8.4s, v4.4s", 0x4e24d508},
	{"faddp s0, v0.2s", 0x7e30d800},
	{"faddp v0.4s, v0.4s, v0.4s", 0x6e20d400},
	{"faddp v0.4s, v0.4s, v1.4s", 0x6e21d400},
	{"faddp v1.4s, v2.4s, v3.4s", 0x6e23d441},
	{"faddp v12.4s, v12.4s, v13.4s", 0x6e2dd58c},
	{"faddp v13.4s, v14.4s, v15.4s", 0x6e2fd5cd},
	{"faddp v4.4s, v4.4s, v5.4s", 0x6e25d484},
	{"faddp v5.4s, v6.4s, v7.4s", 0x6e27d4c5},
	{"faddp v8.4s, v8.4s, v9.4s", 0x6e29d508},
	{"faddp v9.4s, v10.4s, v11.4s", 0x6e2bd549},
	{"fcmeq v6.4s, v0.4s, v0.4s", 0x4e20e406},
	{"fcmeq v6.4s, v1.4s, v1.4s", 0x4e21e426},
	{"fcmge v4.4s, v0.4s, v4.4s", 0x6e24e404},
	{"fcmgt v6.4s, v0.4s, v14.4s", 0x6eaee406},
	{"fcmgt v6.4s, v0.4s, v26.4s", 0x6ebae406},
	{"fcmgt v6.4s, v1.4s, v26.4s", 0x6ebae426},
	{"fcmgt v6.4s, v15.4s, v5.4s", 0x6ea5e5e6},
	{"fcmgt v6.4s, v27.4s, v0.4s", 0x6ea0e766},
	{"fcmgt v6.4s, v27.4s, v1.4s", 0x6ea1e766},
	{"fcmgt v6.4s, v7.4s, v0.4s", 0x6ea0e4e6},
	{"fcvtns v2.4s, v2.4s", 0x4e21a842},
	{"fcvtns v3.4s, v3.4s", 0x4e21a863},
	{"fcvtzs v7.4s, v3.4s", 0x4ea1b867},
	{"fdiv v0.4s, v0.4s, v4.4s", 0x6e24fc00},
	{"fdiv v1.4s, v1.4s, v7.4s", 0x6e27fc21},
	{"fdiv v2.4s, v2.4s, v3.4s", 0x6e23fc42},
	{"fdiv v2.4s, v3.4s, v4.4s", 0x6e24fc62},
	{"fmax v0.4s, v0.4s, v16.4s", 0x4e30f400},
	{"fmax v0.4s, v0.4s, v18.4s", 0x4e32f400},
	{"fmax v1.4s, v1.4s, v16.4s", 0x4e30f421},
	{"fmax v1.4s, v1.4s, v18.4s", 0x4e32f421},
	{"fmax v2.4s, v2.4s, v3.4s", 0x4e23f442},
	{"fmax v2.4s, v2.4s, v4.4s", 0x4e24f442},
	{"fmax v3.4s, v3.4s, v5.4s", 0x4e25f463},
	{"fmaxv s2, v2.4s", 0x6e30f842},
	{"fmin v0.4s, v0.4s, v1.4s", 0x4ea1f400},
	{"fmin v0.4s, v0.4s, v17.4s", 0x4eb1f400},
	{"fmin v0.4s, v0.4s, v19.4s", 0x4eb3f400},
	{"fmin v0.4s, v0.4s, v4.4s", 0x4ea4f400},
	{"fmin v1.4s, v1.4s, v17.4s", 0x4eb1f421},
	{"fmin v1.4s, v1.4s, v19.4s", 0x4eb3f421},
	{"fmin v1.4s, v1.4s, v5.4s", 0x4ea5f421},
	{"fminv s0, v0.4s", 0x6eb0f800},
	{"fmul v0.4s, v0.4s, v28.4s", 0x6e3cdc00},
	{"fmul v0.4s, v0.4s, v29.4s", 0x6e3ddc00},
	{"fmul v0.4s, v0.4s, v3.4s", 0x6e23dc00},
	{"fmul v0.4s, v0.4s, v30.4s", 0x6e3edc00},
	{"fmul v0.4s, v0.4s, v8.4s", 0x6e28dc00},
	{"fmul v0.4s, v8.4s, v0.4s", 0x6e20dd00},
	{"fmul v0.4s, v8.4s, v8.4s", 0x6e28dd00},
	{"fmul v1.4s, v1.4s, v0.4s", 0x6e20dc21},
	{"fmul v1.4s, v1.4s, v28.4s", 0x6e3cdc21},
	{"fmul v1.4s, v1.4s, v29.4s", 0x6e3ddc21},
	{"fmul v1.4s, v1.4s, v30.4s", 0x6e3edc21},
	{"fmul v1.4s, v1.4s, v6.4s", 0x6e26dc21},
	{"fmul v1.4s, v1.4s, v9.4s", 0x6e29dc21},
	{"fmul v1.4s, v9.4s, v1.4s", 0x6e21dd21},
	{"fmul v1.4s, v9.4s, v9.4s", 0x6e29dd21},
	{"fmul v2.4s, v0.4s, v0.4s", 0x6e20dc02},
	{"fmul v2.4s, v0.4s, v2.4s", 0x6e22dc02},
	{"fmul v2.4s, v2.4s, v0.4s", 0x6e20dc42},
	{"fmul v2.4s, v2.4s, v10.4s", 0x6e2adc42},
	{"fmul v2.4s, v2.4s, v3.4s", 0x6e23dc42},
	{"fmul v2.4s, v2.4s, v5.4s", 0x6e25dc42},
	{"fmul v2.4s, v2.4s, v6.4s", 0x6e26dc42},
	{"fmul v2.4s, v2.4s, v7.4s", 0x6e27dc42},
	{"fmul v2.4s, v20.4s, v5.4s", 0x6e25de82},
	{"fmul v3.4s, v0.4s, v0.4s", 0x6e20dc03},
	{"fmul v3.4s, v0.4s, v16.4s", 0x6e30dc03},
	{"fmul v3.4s, v0.4s, v3.4s", 0x6e23dc03},
	{"fmul v3.4s, v1.4s, v16.4s", 0x6e30dc23},
	{"fmul v3.4s, v2.4s, v20.4s", 0x6e34dc43},
	{"fmul v3.4s, v3.4s, v0.4s", 0x6e20dc63},
	{"fmul v3.4s, v3.4s, v11.4s", 0x6e2bdc63},
	{"fmul v3.4s, v3.4s, v2.4s", 0x6e22dc63},
	{"fmul v4.4s, v2.4s, v24.4s", 0x6e38dc44},
	{"fmul v4.4s, v3.4s, v18.4s", 0x6e32dc64},
	{"fmul v4.4s, v3.4s, v19.4s", 0x6e33dc64},
	{"fmul v4.4s, v4.4s, v0.4s", 0x6e20dc84},
	{"fmul v4.4s, v4.4s, v12.4s", 0x6e2cdc84},
	{"fmul v4.4s, v4.4s, v2.4s", 0x6e22dc84},
	{"fmul v4.4s, v4.4s, v3.4s", 0x6e23dc84},
	{"fmul v4.4s, v9.4s, v3.4s", 0x6e23dd24},
	{"fmul v5.4s, v1.4s, v1.4s", 0x6e21dc25},
	{"fmul v5.4s, v5.4s, v13.4s", 0x6e2ddca5},
	{"fmul v6.4s, v2.4s, v6.4s", 0x6e26dc46},
	{"fmul v6.4s, v5.4s, v20.4s", 0x6e34dca6},
	{"fmul v6.4s, v5.4s, v5.4s", 0x6e25dca6},
	{"fmul v6.4s, v6.4s, v14.4s", 0x6e2edcc6},
	{"fmul v6.4s, v6.4s, v5.4s", 0x6e25dcc6},
	{"fmul v7.4s, v3.4s, v7.4s", 0x6e27dc67},
	{"fmul v7.4s, v5.4s, v24.4s", 0x6e38dca7},
	{"fmul v7.4s, v7.4s, v15.4s", 0x6e2fdce7},
	{"fmul v7.4s, v7.4s, v5.4s", 0x6e25dce7},
	{"fmul v8.4s, v8.4s, v16.4s", 0x6e30dd08},
	{"fmul v8.4s, v8.4s, v28.4s", 0x6e3cdd08},
	{"fmul v9.4s, v9.4s, v17.4s", 0x6e31dd29},
	{"fmul v9.4s, v9.4s, v28.4s", 0x6e3cdd29},
	{"fneg v1.4s, v1.4s", 0x6ea0f821},
	{"fneg v7.4s, v14.4s", 0x6ea0f9c7},
	{"fneg v7.4s, v25.4s", 0x6ea0fb27},
	{"frintm v3.4s, v3.4s", 0x4e219863},
	{"fsub v3.4s, v2.4s, v25.4s", 0x4eb9d443},
	{"fsub v5.4s, v0.4s, v4.4s", 0x4ea4d405},
	{"fsub v5.4s, v1.4s, v4.4s", 0x4ea4d425},
	{"fsub v5.4s, v5.4s, v4.4s", 0x4ea4d4a5},
	{"mul v4.4s, v1.4s, v4.4s", 0x4ea49c24},
	{"mul v5.4s, v1.4s, v5.4s", 0x4ea59c25},
	{"sadalp v0.4s, v12.8h", 0x4e606980},
	{"sadalp v0.4s, v24.8h", 0x4e606b00},
	{"sadalp v1.4s, v13.8h", 0x4e6069a1},
	{"sadalp v1.4s, v25.8h", 0x4e606b21},
	{"sadalp v1.8h, v2.16b", 0x4e206841},
	{"sadalp v10.4s, v22.8h", 0x4e606aca},
	{"sadalp v10.4s, v27.8h", 0x4e606b6a},
	{"sadalp v11.4s, v23.8h", 0x4e606aeb},
	{"sadalp v11.4s, v28.8h", 0x4e606b8b},
	{"sadalp v12.4s, v29.8h", 0x4e606bac},
	{"sadalp v13.4s, v30.8h", 0x4e606bcd},
	{"sadalp v14.4s, v24.8h", 0x4e606b0e},
	{"sadalp v15.4s, v25.8h", 0x4e606b2f},
	{"sadalp v15.4s, v27.8h", 0x4e606b6f},
	{"sadalp v2.4s, v14.8h", 0x4e6069c2},
	{"sadalp v2.4s, v26.8h", 0x4e606b42},
	{"sadalp v3.2d, v4.4s", 0x4ea06883},
	{"sadalp v3.4s, v15.8h", 0x4e6069e3},
	{"sadalp v3.4s, v27.8h", 0x4e606b63},
	{"sadalp v4.4s, v16.8h", 0x4e606a04},
	{"sadalp v4.4s, v28.8h", 0x4e606b84},
	{"sadalp v5.4s, v17.8h", 0x4e606a25},
	{"sadalp v5.4s, v29.8h", 0x4e606ba5},
	{"sadalp v6.4s, v18.8h", 0x4e606a46},
	{"sadalp v6.4s, v30.8h", 0x4e606bc6},
	{"sadalp v7.4s, v19.8h", 0x4e606a67},
	{"sadalp v7.4s, v24.8h", 0x4e606b07},
	{"sadalp v8.4s, v20.8h", 0x4e606a88},
	{"sadalp v8.4s, v25.8h", 0x4e606b28},
	{"sadalp v9.4s, v21.8h", 0x4e606aa9},
	{"sadalp v9.4s, v26.8h", 0x4e606b49},
	{"scvtf v6.4s, v6.4s", 0x4e21d8c6},
	{"scvtf v7.4s, v7.4s", 0x4e21d8e7},
	{"sdot v0.4s, v1.16b, v2.16b", 0x4e829420},
	{"sdot v0.4s, v1.16b, v2.4b[0]", 0x4f82e020},
	{"sdot v0.4s, v16.16b, v20.16b", 0x4e949600},
	{"sdot v0.4s, v24.16b, v25.16b", 0x4e999700},
	{"sdot v1.4s, v16.16b, v21.16b", 0x4e959601},
	{"sdot v1.4s, v24.16b, v25.16b", 0x4e999701},
	{"sdot v10.4s, v18.16b, v22.16b", 0x4e96964a},
	{"sdot v10.4s, v24.16b, v25.16b", 0x4e99970a},
	{"sdot v11.4s, v18.16b, v23.16b", 0x4e97964b},
	{"sdot v11.4s, v24.16b, v25.16b", 0x4e99970b},
	{"sdot v12.4s, v19.16b, v20.16b", 0x4e94966c},
	{"sdot v12.4s, v20.16b, v31.4b[1]", 0x4fbfe28c},
	{"sdot v12.4s, v24.16b, v25.16b", 0x4e99970c},
	{"sdot v13.4s, v19.16b, v21.16b", 0x4e95966d},
	{"sdot v13.4s, v24.16b, v25.16b", 0x4e99970d},
	{"sdot v14.4s, v19.16b, v22.16b", 0x4e96966e},
	{"sdot v14.4s, v24.16b, v25.16b", 0x4e99970e},
	{"sdot v15.4s, v19.16b, v23.16b", 0x4e97966f},
	{"sdot v15.4s, v24.16b, v25.16b", 0x4e99970f},
	{"sdot v16.4s, v24.16b, v25.16b", 0x4e999710},
	{"sdot v17.4s, v24.16b, v25.16b", 0x4e999711},
	{"sdot v18.4s, v24.16b, v25.16b", 0x4e999712},
	{"sdot v19.4s, v24.16b, v25.16b", 0x4e999713},
	{"sdot v2.4s, v16.16b, v22.16b", 0x4e969602},
	{"sdot v2.4s, v24.16b, v25.16b", 0x4e999702},
	{"sdot v20.4s, v24.16b, v25.16b", 0x4e999714},
	{"sdot v21.4s, v24.16b, v25.16b", 0x4e999715},
	{"sdot v22.4s, v24.16b, v25.16b", 0x4e999716},
	{"sdot v23.4s, v24.16b, v25.16b", 0x4e999717},
	{"sdot v3.4s, v16.16b, v23.16b", 0x4e979603},
	{"sdot v3.4s, v17.16b, v9.4b[3]", 0x4fa9ea23},
	{"sdot v3.4s, v24.16b, v25.16b", 0x4e999703},
	{"sdot v31.4s, v31.16b, v31.16b", 0x4e9f97ff},
	{"sdot v4.4s, v17.16b, v20.16b", 0x4e949624},
	{"sdot v4.4s, v24.16b, v25.16b", 0x4e999704},
	{"sdot v5.4s, v16.16b, v20.16b", 0x4e949605},
	{"sdot v5.4s, v17.16b, v21.16b", 0x4e959625},
	{"sdot v5.4s, v24.16b, v25.16b", 0x4e999705},
	{"sdot v6.4s, v17.16b, v22.16b", 0x4e969626},
	{"sdot v6.4s, v24.16b, v25.16b", 0x4e999706},
	{"sdot v7.4s, v17.16b, v23.16b", 0x4e979627},
	{"sdot v7.4s, v24.16b, v25.16b", 0x4e999707},
	{"sdot v7.4s, v8.16b, v16.4b[2]", 0x4f90e907},
	{"sdot v8.4s, v18.16b, v20.16b", 0x4e949648},
	{"sdot v8.4s, v24.16b, v25.16b", 0x4e999708},
	{"sdot v9.4s, v18.16b, v21.16b", 0x4e959649},
	{"sdot v9.4s, v24.16b, v25.16b", 0x4e999709},
	{"smin v3.4s, v7.4s, v29.4s", 0x4ebd6ce3},
	{"smlal v0.2d, v1.2s, v2.2s", 0x0ea28020},
	{"smlal v0.4s, v1.4h, v2.4h", 0x0e628020},
	{"smlal v1.8h, v2.8b, v3.8b", 0x0e238041},
	{"smlal2 v0.4s, v1.8h, v2.8h", 0x4e628020},
	{"smlal2 v12.8h, v24.16b, v25.16b", 0x4e39830c},
	{"smlal2 v13.8h, v24.16b, v25.16b", 0x4e39830d},
	{"smlal2 v14.8h, v24.16b, v25.16b", 0x4e39830e},
	{"smlal2 v15.8h, v24.16b, v25.16b", 0x4e39830f},
	{"smlal2 v16.8h, v24.16b, v25.16b", 0x4e398310},
	{"smlal2 v17.8h, v24.16b, v25.16b", 0x4e398311},
	{"smlal2 v18.8h, v24.16b, v25.16b", 0x4e398312},
	{"smlal2 v19.8h, v24.16b, v25.16b", 0x4e398313},
	{"smlal2 v20.8h, v24.16b, v25.16b", 0x4e398314},
	{"smlal2 v21.8h, v24.16b, v25.16b", 0x4e398315},
	{"smlal2 v22.8h, v24.16b, v25.16b", 0x4e398316},
	{"smlal2 v23.8h, v24.16b, v25.16b", 0x4e398317},
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
	{"smull v12.8h, v24.8b, v25.8b", 0x0e39c30c},
	{"smull v13.8h, v24.8b, v25.8b", 0x0e39c30d},
	{"smull v14.8h, v24.8b, v25.8b", 0x0e39c30e},
	{"smull v15.8h, v24.8b, v25.8b", 0x0e39c30f},
	{"smull v16.8h, v24.8b, v25.8b", 0x0e39c310},
	{"smull v17.8h, v24.8b, v25.8b", 0x0e39c311},
	{"smull v18.8h, v24.8b, v25.8b", 0x0e39c312},
	{"smull v19.8h, v24.8b, v25.8b", 0x0e39c313},
	{"smull v20.8h, v24.8b, v25.8b", 0x0e39c314},
	{"smull v21.8h, v24.8b, v25.8b", 0x0e39c315},
	{"smull v22.8h, v24.8b, v25.8b", 0x0e39c316},
	{"smull v23.8h, v24.8b, v25.8b", 0x0e39c317},
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
	{"sqxtun v4.4h, v2.4s", 0x2e612844},
	{"sqxtun2 v4.8h, v3.4s", 0x6e612864},
	{"uadalp v0.4s, v1.8h", 0x6e606820},
	{"uadalp v2.8h, v3.16b", 0x6e206862},
	{"udot v0.4s, v1.16b, v2.16b", 0x6e829420},
	{"udot v9.4s, v18.16b, v27.4b[2]", 0x6f9bea49},
	{"umlal v3.8h, v4.8b, v5.8b", 0x2e258083},
	{"umull v1.8h, v2.8b, v3.8b", 0x2e23c041},
	{"umull v30.4s, v29.4h, v28.4h", 0x2e7cc3be},
	{"uqxtn v4.8b, v4.8h", 0x2e214884},
}

var operand = regexp.MustCompile(`^v(\d+)\.(\d+)([bhsd])(?:\[(\d)\])?$|^s(\d+)$`)

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
		if m[5] != "" { // a scalar S register
			r, _ := strconv.Atoi(m[5])
			regs = append(regs, V(r))
			sizes = append(sizes, S)
			continue
		}
		r, _ := strconv.Atoi(m[1])
		regs = append(regs, V(r))
		sizes = append(sizes, Size(strings.IndexByte("bhsd", m[3][0])))
		if m[4] != "" {
			idx, _ = strconv.Atoi(m[4])
		}
	}
	if _, ok := vops[fmt.Sprintf("%s/%d", mn, len(regs))]; ok {
		return Op(mn, regs...)
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
	for _, e := range llvmMCA32 {
		known[e.text] = e.word
	}
	for kernel, name := range kernelFiles {
		src, err := generate(kernel)
		if err != nil {
			t.Fatal(err)
		}
		file := "../" + name
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

// TestInnerLoopsFloat reports the float kernels' loop instructions per
// unit of work: per multiply-accumulate for the f32 GEMM/GEMV, dot and
// axpy, per element for the rest (loop control included).
func TestInnerLoopsFloat(t *testing.T) {
	for _, l := range []struct {
		kernel, label string
		units         int
		unit          string
	}{
		{"gemmf32", "kloop", 4 * 4 * 8, "MAC (4×4 tile, 8 k)"},
		{"gemmf32", "g8k", 8 * 8, "MAC (gemv, 8 rows, 8 k)"},
		{"gemmf32", "g4k", 4 * 8, "MAC (gemv, 4 rows, 8 k)"},
		{"gemmf32", "g1k", 8, "MAC (gemv, 1 row, 8 k)"},
		{"vec", "dloop32", 32, "MAC (dot)"},
		{"vec", "dloop8", 8, "MAC (dot)"},
		{"vec", "aloop16", 16, "MAC (axpy)"},
		{"vec", "aloop8", 8, "MAC (axpy)"},
		{"quant", "mmloop", 8, "element (min/max)"},
		{"quant", "qloop", 8, "element (quantize)"},
		{"quant", "dloop", 8, "element (dequantize)"},
		{"quant", "dbloop", 8, "element (dequantize + bias)"},
		{"act", "expNEONloop", 4, "element (exp)"},
		{"act", "sigmoidNEONloop", 4, "element (sigmoid)"},
		{"act", "tanhNEONloop", 4, "element (tanh)"},
	} {
		src, err := generate(l.kernel)
		if err != nil {
			t.Fatal(err)
		}
		ins := inner(src, l.label)
		fmla := 0
		for _, i := range ins {
			if strings.HasPrefix(i, "VFMLA") {
				fmla++
			}
		}
		t.Logf("%s %s: %d instructions (%d FMLA) per %d = %.3f per %s", l.kernel, l.label, len(ins), fmla, l.units, float64(len(ins))/float64(l.units), l.unit)
		if len(ins) == 0 {
			t.Errorf("%s: no %s", l.kernel, l.label)
		}
	}
}
