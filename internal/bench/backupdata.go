package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// backupData describes the benchmark's tree: many small text files, some
// medium ones and a few large random ones, about Total bytes in all, made
// the same way on every run (a seeded ChaCha8 stream per file).
type backupData struct {
	Small, Medium, Large          int
	SmallSize, MediumSize, Large1 int64
}

// newBackupData sizes the tree for about total bytes: 8% small text files
// of 4 KiB on average, 22% medium files of 1 MiB, 70% in three large ones.
func newBackupData(total int64) backupData {
	d := backupData{SmallSize: 4 << 10, MediumSize: 1 << 20}
	d.Small = int(total * 8 / 100 / d.SmallSize)
	d.Medium = int(total * 22 / 100 / d.MediumSize)
	d.Large = 3
	d.Large1 = total * 70 / 100 / 3
	return d
}

// Files is the number of files in the tree.
func (d backupData) Files() int { return d.Small + d.Medium + d.Large }

// file returns file i's path (relative) and size; small files first.
func (d backupData) file(i int) (string, int64, bool) {
	switch {
	case i < d.Small:
		// 0.5x to 1.5x the average, so sizes vary.
		size := d.SmallSize/2 + int64(i%int(d.SmallSize))
		return filepath.Join("docs", fmt.Sprintf("%03d", i/500), fmt.Sprintf("note-%05d.txt", i)), size, true
	case i < d.Small+d.Medium:
		j := i - d.Small
		return filepath.Join("media", fmt.Sprintf("%02d", j/50), fmt.Sprintf("photo-%04d.jpg", j)), d.MediumSize, false
	default:
		j := i - d.Small - d.Medium
		return filepath.Join("archive", fmt.Sprintf("disk-%d.img", j)), d.Large1, false
	}
}

// words make the small files compressible text.
var words = []string{"hearth", "photo", "calendar", "family", "garden", "recipe", "letter", "invoice", "holiday",
	"music", "notes", "school", "doctor", "bicycle", "kitchen", "window", "summer", "winter", "the", "and", "of", "a"}

// write writes file i at version v (0 = the original; a changed file gets
// another version) under root.
func (d backupData) write(root string, i, v int) (int64, error) {
	rel, size, text := d.file(i)
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(p)
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewChaCha8(seed(i, v)))
	w := bufio.NewWriterSize(f, 1<<20)
	var n int64
	if text {
		for n < size {
			k, _ := w.WriteString(words[rng.IntN(len(words))])
			n += int64(k)
			if rng.IntN(12) == 0 {
				_ = w.WriteByte('\n')
			} else {
				_ = w.WriteByte(' ')
			}
			n++
		}
	} else {
		buf := make([]byte, 64<<10)
		for n < size {
			chunk := min(int64(len(buf)), size-n)
			for j := 0; j < int(chunk); j += 8 {
				u := rng.Uint64()
				for b := 0; b < 8 && j+b < int(chunk); b++ {
					buf[j+b] = byte(u >> (8 * b))
				}
			}
			k, err := w.Write(buf[:chunk])
			n += int64(k)
			if err != nil {
				f.Close()
				return n, err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}

func seed(i, v int) [32]byte {
	var s [32]byte
	copy(s[:], fmt.Sprintf("hearth-bench-%d-%d", i, v))
	return s
}

// changed lists the files the incremental round rewrites: every 100th
// (1% of the files), spread over the three kinds in proportion.
func (d backupData) changed() []int {
	var out []int
	for i := 0; i < d.Files(); i += 100 {
		out = append(out, i)
	}
	return out
}
