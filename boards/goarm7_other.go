//go:build !arm.7

package boards

// goarm7 is false for builds other than GOARCH=arm GOARM=7.
const goarm7 = false
