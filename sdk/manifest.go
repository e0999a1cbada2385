package sdk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestName is the manifest Open looks for beside a plugin binary when
// no manifest option is given.
const ManifestName = "plugins.lock"

// ErrNotInManifest is returned (wrapped) by Open for a binary the manifest
// does not list.
var ErrNotInManifest = errors.New("sdk: plugin binary is not in the manifest")

// ErrNoManifest is returned (wrapped) by Open when there is no manifest to
// verify a binary against: none was given and none can be read beside it.
var ErrNoManifest = errors.New("sdk: no manifest")

// ErrChecksumMismatch is returned (wrapped) by Open, and reported by a
// plugin's Status, when a binary's SHA-256 differs from its manifest's: the
// binary is never started.
var ErrChecksumMismatch = errors.New("sdk: plugin binary does not match its manifest checksum")

// Manifest lists the SHA-256 of each trusted plugin binary. Its text form is
// sha256sum's output, one binary a line:
//
//	e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  sentiment
//	9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  bin/intent
//
// so `sha256sum sentiment intent > plugins.lock` writes one. Names are paths
// relative to the manifest's directory (or absolute); blank lines and lines
// starting with # are ignored.
type Manifest struct {
	// Dir is the directory relative names are resolved against (the
	// manifest file's directory for ReadManifest).
	Dir     string
	entries []manifestEntry
}

type manifestEntry struct {
	name string
	sum  []byte
}

// ErrInsecureManifest is returned (wrapped) by ReadManifest, and by Open,
// for a manifest file others than its owner could have written: writable
// by its group or by others, a symbolic link, or in a world-writable
// directory without the sticky bit. Whoever can write the manifest chooses
// which binaries the host runs. WithInsecureManifest and
// ReadManifestInsecure skip the check.
var ErrInsecureManifest = errors.New("sdk: manifest could have been written by others")

// ReadManifest reads a manifest file, refusing one that others than its
// owner could have written (ErrInsecureManifest).
func ReadManifest(path string) (*Manifest, error) { return readManifest(path, true) }

// ReadManifestInsecure reads a manifest file without checking who could
// have written it: for file systems without Unix permissions.
func ReadManifestInsecure(path string) (*Manifest, error) { return readManifest(path, false) }

func readManifest(path string, secure bool) (*Manifest, error) {
	var f *os.File
	var err error
	if secure {
		f, err = openManifest(path)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("sdk: manifest: %w", err)
	}
	defer f.Close()
	m, err := ParseManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	return m, nil
}

// insecureManifest is the error for a manifest at path that is unsafe for
// the reason given.
func insecureManifest(path, why string) error {
	return fmt.Errorf("%s %s; fix it (chmod go-w, or put the manifest where only its owner can write), or accept it with --insecure-lock (sdk.WithInsecureManifest): %w",
		path, why, ErrInsecureManifest)
}

// ParseManifest parses a manifest's text; Dir is left empty (the current
// directory).
func ParseManifest(r io.Reader) (*Manifest, error) {
	m := &Manifest{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexsum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimLeft(name, " "), "*") // "*name": sha256sum's binary mode
		sum, err := hex.DecodeString(hexsum)
		if !ok || err != nil || len(sum) != sha256.Size || name == "" {
			return nil, fmt.Errorf("sdk: manifest line %d: want \"<64 hex digits of sha256>  <name>\", got %q", n, line)
		}
		for _, e := range m.entries {
			if e.name == name && !bytes.Equal(e.sum, sum) {
				return nil, fmt.Errorf("sdk: manifest line %d: %q is listed twice with different checksums", n, name)
			}
		}
		m.Add(name, sum)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sdk: manifest: %w", err)
	}
	return m, nil
}

// Add lists a binary (replacing an entry of the same name).
func (m *Manifest) Add(name string, sum []byte) {
	for i := range m.entries {
		if m.entries[i].name == name {
			m.entries[i].sum = slices.Clone(sum)
			return
		}
	}
	m.entries = append(m.entries, manifestEntry{name: name, sum: slices.Clone(sum)})
}

// Lookup returns the checksum listed for the binary at path: the entry
// naming the same file, or else the only entry with the same base name.
func (m *Manifest) Lookup(path string) (sum []byte, ok bool) {
	want, err := filepath.Abs(path)
	if err != nil {
		want = filepath.Clean(path)
	}
	var byBase []byte
	nBase := 0
	for _, e := range m.entries {
		p := e.name
		if !filepath.IsAbs(p) {
			p = filepath.Join(m.Dir, p)
		}
		if abs, err := filepath.Abs(p); err == nil && abs == want {
			return slices.Clone(e.sum), true
		}
		if filepath.Base(e.name) == filepath.Base(path) {
			byBase, nBase = e.sum, nBase+1
		}
	}
	if nBase == 1 {
		return slices.Clone(byBase), true
	}
	return nil, false
}

// WriteTo writes the manifest in sha256sum's format, sorted by name.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	es := slices.Clone(m.entries)
	slices.SortFunc(es, func(a, b manifestEntry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&buf, "%x  %s\n", e.sum, e.name)
	}
	return buf.WriteTo(w)
}

// HashFile returns the SHA-256 of a file's contents (what sha256sum prints).
func HashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
