package mockcore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteStateFile writes v as indented JSON to dir/name with mode 0600
// (mock state holds secret hashes), through a temporary file and a
// rename, so a crash never leaves half a file. dir is created (0700) if
// needed.
func WriteStateFile(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("mockcore: encoding state: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("mockcore: state directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return fmt.Errorf("mockcore: writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("mockcore: writing state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("mockcore: writing state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mockcore: writing state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("mockcore: writing state: %w", err)
	}
	return nil
}

// ReadStateFile decodes the JSON file at path into v. A missing file is
// no error: found is false and v untouched (a fresh start).
func ReadStateFile(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mockcore: reading state: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("mockcore: state file %s: %w", path, err)
	}
	return true, nil
}
