package compose

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// maxFile bounds every file Import reads, in bytes.
const maxFile = 4 << 20

// composeNames are the compose file names looked for in a folder, in the
// compose specification's order; overrideNames are merged on top of the
// first when present.
var (
	composeNames  = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
	overrideNames = []string{"compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"}
)

// errTooLarge marks a file over maxFile; errOutside a file whose symbolic
// link leads out of the project folder.
var (
	errTooLarge = errors.New("file too large")
	errOutside  = errors.New("leads outside the project folder")
)

// source is a project folder opened for reading. Every read goes through
// root, so that nothing outside the folder (through "..", absolute paths
// or symbolic links) is ever read.
type source struct {
	dir      string // absolute path of the folder
	root     *os.Root
	file     string // the compose file, relative to dir; "" when none
	override string // an override file merged on top, or ""
}

// openSource opens the project at path: a folder, or a compose file.
func openSource(path string) (*source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	s := &source{dir: abs}
	if !fi.IsDir() {
		s.dir, s.file = filepath.Dir(abs), filepath.Base(abs)
	}
	if s.root, err = os.OpenRoot(s.dir); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if s.file != "" {
		return s, nil
	}
	for _, n := range composeNames {
		if ok, err := s.exists(n); err != nil {
			s.close()
			return nil, err
		} else if ok {
			s.file = n
			break
		}
	}
	for _, n := range overrideNames {
		if ok, err := s.exists(n); err != nil {
			s.close()
			return nil, err
		} else if ok && s.file != "" {
			s.override = n
			break
		}
	}
	return s, nil
}

func (s *source) close() { _ = s.root.Close() }

// exists reports whether name is a regular file of the folder (or a
// symbolic link out of it, which read refuses).
func (s *source) exists(name string) (bool, error) {
	fi, err := s.root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		if li, lerr := s.root.Lstat(name); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			return true, nil
		}
		return false, fmt.Errorf("import: %w", err)
	}
	return fi.Mode().IsRegular(), nil
}

// isDir reports whether name is a folder of the project.
func (s *source) isDir(name string) bool {
	fi, err := s.root.Stat(name)
	return err == nil && fi.IsDir()
}

// read returns the content of the file name of the folder; ok is false
// when there is no such file. A file larger than maxFile is errTooLarge, a
// symbolic link out of the folder errOutside.
func (s *source) read(name string) (data []byte, ok bool, err error) {
	f, err := s.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		if fi, lerr := s.root.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, true, errOutside
		}
		return nil, false, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("import: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, nil
	}
	data, err = io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("import: %w", err)
	}
	if len(data) > maxFile {
		return nil, true, errTooLarge
	}
	return data, true, nil
}
