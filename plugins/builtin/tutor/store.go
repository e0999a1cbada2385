package tutor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// store keeps one file per learner in a directory: the learner's
// sdkrt.TracingState (MarshalBinary), named by the first 16 bytes of the
// SHA-256 of the learner id in hex with the extension ".state", so no id
// names a path outside the directory. Files are written atomically
// (format/atomicfile, the writer of every file the tools write).
type store struct {
	dir  string
	size int // of a state of the model
}

const (
	stateExt = ".state"
	// tmpInfix marks atomicfile's named temporary files (".NAME.tmp-*",
	// where O_TMPFILE is not available).
	tmpInfix = stateExt + ".tmp-"
	// maxStateFile bounds what load reads of a file (a state of any
	// model the tracer takes is far smaller).
	maxStateFile = 8 << 20
)

// openStore makes dir when missing and removes the temporary files an
// interrupted write left.
func openStore(dir string, size int) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tutor: store %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tutor: store %s: %w", dir, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), tmpInfix) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return &store{dir: dir, size: size}, nil
}

func (s *store) path(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:16])+stateExt)
}

// load reads the learner's state into st (a new state of the model):
// nil, nil when the store has none. A file that cannot be read, is
// corrupt or holds a state of another model is an error naming it.
func (s *store) load(id string, st *sdkrt.TracingState) (*sdkrt.TracingState, error) {
	p := s.path(id)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	fail := func(err error) error {
		return fmt.Errorf("tutor: learner %q: state file %s: %w (send the whole history with history=true to rewrite it)", id, p, err)
	}
	if err != nil {
		return nil, fail(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, fail(err)
	}
	if len(b) > maxStateFile {
		return nil, fail(fmt.Errorf("%w: more than %d bytes", sdkrt.ErrStateCorrupt, maxStateFile))
	}
	if err := st.UnmarshalBinary(b); err != nil {
		return nil, fail(err)
	}
	return st, nil
}

// save writes the learner's state atomically.
func (s *store) save(id string, st *sdkrt.TracingState) (err error) {
	p := s.path(id)
	defer func() {
		if err != nil {
			err = fmt.Errorf("tutor: learner %q: writing state file %s: %w", id, p, err)
		}
	}()
	b, err := st.AppendBinary(make([]byte, 0, s.size))
	if err != nil {
		return err
	}
	return atomicfile.Write(p, 0o600, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}
