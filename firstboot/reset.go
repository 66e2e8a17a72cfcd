package firstboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ResetMarkerName is the factory-reset marker's file name on the boot
// partition (FAT, so it can be made from any computer).
const ResetMarkerName = "hearth-reset"

// ResetRequested reports whether the factory-reset marker exists at path
// ("" = never).
func ResetRequested(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("factory reset marker: %w", err)
}

// ClearReset removes the marker once the reset is done, so that the next
// boot does not reset again.
func ClearReset(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("factory reset marker: %w", err)
	}
	return nil
}
