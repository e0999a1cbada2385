package audio

import (
	"fmt"
	"strconv"
)

// Keys of a keyword-spotting model's metadata (format.Metadata.Extra)
// that say how its input is made.
const (
	KeyFrontend = "audio_frontend" // Config.String()
	KeyClip     = "clip_samples"   // samples in the model's window (16000: 1 s)
	KeyFrames   = "frames"         // frames of the window: Config.Frames(clip)
)

// ModelInput is how a model's input is made from audio: the clip (padded
// or cropped to Clip samples at Frontend.Rate, FitWindow) through the
// front end gives Frames frames of Frontend.Features() values, the model's
// input [1, Frames, Features].
type ModelInput struct {
	Frontend Config
	Clip     int
	Frames   int
}

// ParseModelInput reads a model's metadata through get (the value of an
// Extra key, "" when absent) and checks it: a valid front end, a window
// from one frame to 60 s, and the frame count it gives.
func ParseModelInput(get func(key string) string) (ModelInput, error) {
	var m ModelInput
	var err error
	if m.Frontend, err = ParseConfig(get(KeyFrontend)); err != nil {
		return ModelInput{}, fmt.Errorf("audio: the model's %s: %w", KeyFrontend, err)
	}
	s := get(KeyClip)
	m.Clip, err = strconv.Atoi(s)
	if err != nil || m.Clip < m.Frontend.Window || m.Clip > 60*m.Frontend.Rate {
		return ModelInput{}, fmt.Errorf("audio: the model's %s %q: want a number of samples from one frame (%d) to 60 s", KeyClip, s, m.Frontend.Window)
	}
	s = get(KeyFrames)
	if m.Frames, err = strconv.Atoi(s); err != nil || m.Frames != m.Frontend.Frames(m.Clip) {
		return ModelInput{}, fmt.Errorf("audio: the model's %s %q: want %d for a window of %d samples", KeyFrames, s, m.Frontend.Frames(m.Clip), m.Clip)
	}
	return m, nil
}

// Features returns the values of the model input: Frames × Features.
func (m ModelInput) Features() int { return m.Frames * m.Frontend.Features() }
