package main

import (
	"os"

	"gonum.org/v1/plot/vg/vgimg"

	"github.com/edgerun/edgerun/format/atomicfile"
)

// savePNG writes the canvas as a PNG, atomically (format/atomicfile): the
// temporary file is unnamed or created exclusively under a random name,
// so no file planted beside path is ever followed or overwritten.
func savePNG(img *vgimg.Canvas, path string) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f)
		return err
	})
}
