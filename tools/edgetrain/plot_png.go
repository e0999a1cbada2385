package main

import (
	"os"

	"gonum.org/v1/plot/vg/vgimg"
)

// savePNG writes the canvas as a PNG, atomically enough for a plot (a
// temporary file renamed into place).
func savePNG(img *vgimg.Canvas, path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
