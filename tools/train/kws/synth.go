package kws

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/runtime/audio"
)

// Commands are the ten command words of the bundled set (and of Google's
// Speech Commands).
var Commands = []string{"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}

// UnknownWords are the words Synthesize speaks as _unknown_: the
// auxiliary words of Speech Commands v2 and 129 common English words, so
// that the model learns "another word" rather than the few it saw. No
// homophones or near misses of the commands ("know" is "no" to a
// listener, "write" is "right"): a model cannot be asked to tell them
// apart.
var UnknownWords = []string{
	"apple", "baby", "back", "backward", "bag", "ball", "bank", "bat", "bear", "bed", "bell", "big", "bird",
	"blue", "boat", "book", "box", "boy", "bread", "bus", "cake", "call", "car", "cat", "chair", "city", "coat",
	"cold", "cook", "cup", "day", "desk", "dog", "door", "dream", "drink", "duck", "ear", "egg", "eight", "eye",
	"face", "farm", "fish", "five", "flower", "follow", "food", "foot", "forward", "four", "friend", "frog",
	"game", "girl", "glass", "gold", "good", "green", "hair", "hand", "happy", "hat", "head", "hello", "help",
	"hill", "home", "horse", "hot", "house", "ice", "jam", "jump", "key", "king", "kite", "lamp", "learn",
	"light", "lion", "little", "love", "man", "map", "marvin", "milk", "moon", "mother", "mouse", "music",
	"name", "nine", "number", "ocean", "one", "orange", "paper", "park", "pen", "pig", "pink", "plate", "queen",
	"rain", "red", "ring", "river", "road", "rock", "room", "round", "run", "salt", "sand", "school", "sea",
	"seven", "sheep", "sheila", "shoe", "sing", "sister", "six", "sky", "sleep", "small", "snow", "song",
	"sound", "star", "street", "sun", "table", "tea", "ten", "three", "time", "train", "tree", "two", "visual",
	"voice", "walk", "water", "white", "wind", "window", "winter", "woman", "word", "world", "wow", "zero",
}

// synthVoices are espeak-ng's English voices, synthVariants the voice
// variants of espeak-ng 1.51 (Debian bookworm) drawn from.
var (
	synthVoices   = []string{"en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc"}
	synthVariants = []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
		"croak", "klatt", "klatt2", "klatt3", "klatt4", "whisper", "Alex", "Andy", "Annie", "Denis", "Gene", "Jacky",
		"Lee", "Mike", "Storm", "adam", "anika", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed",
		"edward", "grandma", "grandpa", "iven", "john", "linda", "max", "michel", "norbert", "paul", "pedro",
		"quincy", "rob", "robert", "steph", "travis", "victor", "zac"}
)

// SynthOptions are Synthesize's choices.
type SynthOptions struct {
	Dir      string // output folder: manifest.csv and wav/
	Speakers int    // synthetic voices
	Unknown  int    // _unknown_ words each voice says (drawn from UnknownWords)
	Seed     uint64 // voice parameters and word choice
	Workers  int    // parallel espeak-ng/sox runs (0: 2)
	Logf     func(format string, args ...any)
}

// Synthesize writes a keyword-spotting set spoken by espeak-ng: Speakers
// voices (accent, variant, speed 120–200 wpm and pitch 25–75 drawn per
// voice from Seed), each saying the ten Commands and Unknown of
// UnknownWords, every clip processed as the bundled set's
// (`sox … -r 16000 -c 1 -b 16 … silence 1 0.02 0.5% reverse silence 1 0.02
// 0.5% reverse`, then centred in 1 s), and manifest.csv (file, label,
// speaker, voice, variant, speed_wpm, pitch, word). espeak-ng and sox
// must be installed (Debian packages espeak-ng and sox); their output is
// deterministic, so the same options give the same files.
func Synthesize(ctx context.Context, o SynthOptions) error {
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("kws: %s is not installed (Debian: apt-get install espeak-ng sox; make kws-data installs them)", tool)
		}
	}
	if o.Speakers < 1 || o.Speakers > 100000 || o.Unknown < 0 || o.Unknown > len(UnknownWords) {
		return fmt.Errorf("kws: %d speakers and %d unknown words each: want 1 to 100000 and 0 to %d", o.Speakers, o.Unknown, len(UnknownWords))
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "wav"), 0o755); err != nil {
		return err
	}
	type job struct {
		file, word, label, spk, voice, variant string
		speed, pitch                           int
	}
	var jobs []job
	for s := range o.Speakers {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(s)))
		spk := fmt.Sprintf("syn%d_%04d", o.Seed, s)
		voice, variant := synthVoices[rng.IntN(len(synthVoices))], synthVariants[rng.IntN(len(synthVariants))]
		speed, pitch := 120+rng.IntN(81), 25+rng.IntN(51)
		words := append([]string(nil), Commands...)
		perm := rng.Perm(len(UnknownWords))
		for _, i := range perm[:o.Unknown] {
			words = append(words, UnknownWords[i])
		}
		for i, w := range words {
			label := w
			if i >= len(Commands) {
				label = Unknown
			}
			jobs = append(jobs, job{file: "wav/" + w + "_" + spk + ".wav", word: w, label: label, spk: spk, voice: voice, variant: variant, speed: speed, pitch: pitch})
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = 2
	}
	tmp, err := os.MkdirTemp("", "kws-synth-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, t16 := filepath.Join(tmp, fmt.Sprintf("raw%d.wav", w)), filepath.Join(tmp, fmt.Sprintf("t16_%d.wav", w))
			for {
				mu.Lock()
				if first != nil || next == len(jobs) {
					mu.Unlock()
					return
				}
				j := jobs[next]
				next++
				if next%500 == 0 && o.Logf != nil {
					o.Logf("%d/%d clips", next, len(jobs))
				}
				mu.Unlock()
				err := run(ctx, "espeak-ng", "-v", j.voice+"+"+j.variant, "-s", strconv.Itoa(j.speed), "-p", strconv.Itoa(j.pitch), "-w", raw, j.word)
				if err == nil {
					err = run(ctx, "sox", "-V1", "-D", "-R", raw, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", t16,
						"silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse")
				}
				var c *audio.Clip
				if err == nil {
					c, err = audio.ReadWAVFile(t16)
				}
				if err == nil {
					c.Samples = audio.FitWindow(nil, c.Samples, 16000)
					err = os.WriteFile(filepath.Join(o.Dir, filepath.FromSlash(j.file)), audio.EncodeWAV(c), 0o644)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("kws: %s (%s+%s): %w", j.file, j.voice, j.variant, err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return atomicfile.Write(filepath.Join(o.Dir, "manifest.csv"), 0o644, func(f *os.File) error {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"file", "label", "speaker", "voice", "variant", "speed_wpm", "pitch", "word"})
		for _, j := range jobs {
			_ = w.Write([]string{j.file, j.label, j.spk, j.voice, j.variant, strconv.Itoa(j.speed), strconv.Itoa(j.pitch), j.word})
		}
		w.Flush()
		return w.Error()
	})
}

// run runs a command, its stderr in the error.
func run(ctx context.Context, name string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && stderr.Len() > 0 {
			return fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
