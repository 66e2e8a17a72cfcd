package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// targetBackupRatio is the most Hearth's backups may take, as a multiple of
// restic's own command line on the same data (issue 9, acceptance 5).
const targetBackupRatio = 1.1

// BackupReport is .bench/backup.json.
type BackupReport struct {
	Bench string    `json:"bench"`
	Time  time.Time `json:"time"`
	Peer  string    `json:"peer"`
	Runs  int       `json:"runs"`

	FullMSHearth        float64 `json:"full_ms_hearth"`
	FullMSRestic        float64 `json:"full_ms_restic"`
	IncrementalMSHearth float64 `json:"incremental_ms_hearth"`
	IncrementalMSRestic float64 `json:"incremental_ms_restic"`
	FullRatio           float64 `json:"full_ratio"`
	IncrementalRatio    float64 `json:"incremental_ratio"`

	Targets []Target `json:"targets"`
	Pass    bool     `json:"pass"`

	Method string `json:"method"`
	Data   struct {
		Bytes        int64 `json:"bytes"`
		Files        int   `json:"files"`
		Small        int   `json:"small_files"`
		Medium       int   `json:"medium_files"`
		Large        int   `json:"large_files"`
		ChangedFiles int   `json:"changed_files"`
	} `json:"data"`
	AddedFullBytes        int64 `json:"added_full_bytes"`
	AddedIncrementalBytes int64 `json:"added_incremental_bytes"`
	Samples               struct {
		FullHearth        []float64 `json:"full_hearth_ms"`
		FullRestic        []float64 `json:"full_restic_ms"`
		IncrementalHearth []float64 `json:"incremental_hearth_ms"`
		IncrementalRestic []float64 `json:"incremental_restic_ms"`
	} `json:"samples"`
	Machine Machine `json:"machine"`
}

// newBackupReport takes the medians and compares their ratios with the
// target.
func newBackupReport(res BackupResults) (BackupReport, error) {
	r := BackupReport{Bench: "backup", Time: res.Time, Peer: res.ResticVersion + " command line", Runs: len(res.HearthFull),
		Method: "one tree of many small text files, some 1 MiB and three large random files, written from a seeded stream; " +
			"each run backs it up into two fresh local repositories with the same key, through agent/backup (metadata file, " +
			"restic backup --json read line by line) and through restic's own command line, alternating which goes first; " +
			"then rewrites every 100th file and backs up again. Times are wall clock of the whole call, medians of the runs; " +
			"each ratio is the median of the runs' own ratios (hearth / restic).",
		Machine: res.Machine, AddedFullBytes: res.HearthAddedFull, AddedIncrementalBytes: res.HearthAddedInc}
	r.Data.Bytes, r.Data.Files, r.Data.Small, r.Data.Medium, r.Data.Large, r.Data.ChangedFiles =
		res.Bytes, res.Data.Files(), res.Data.Small, res.Data.Medium, res.Data.Large, res.Changed
	r.Samples.FullHearth, r.Samples.FullRestic = res.HearthFull, res.ResticFull
	r.Samples.IncrementalHearth, r.Samples.IncrementalRestic = res.HearthIncremental, res.ResticIncr
	for _, m := range []struct {
		dst *float64
		xs  []float64
	}{{&r.FullMSHearth, res.HearthFull}, {&r.FullMSRestic, res.ResticFull},
		{&r.IncrementalMSHearth, res.HearthIncremental}, {&r.IncrementalMSRestic, res.ResticIncr}} {
		s, err := summarize(m.xs)
		if err != nil {
			return BackupReport{}, err
		}
		*m.dst = round(s.Median, 1)
	}
	if r.FullMSRestic <= 0 || r.IncrementalMSRestic <= 0 {
		return BackupReport{}, fmt.Errorf("backup benchmark: restic took no time")
	}
	// Each run pairs the two sides under the same conditions (the machine
	// may be shared): the ratio is the median of the runs' ratios.
	var err error
	if r.FullRatio, err = pairedRatio(res.HearthFull, res.ResticFull); err != nil {
		return BackupReport{}, err
	}
	if r.IncrementalRatio, err = pairedRatio(res.HearthIncremental, res.ResticIncr); err != nil {
		return BackupReport{}, err
	}
	r.Targets = []Target{
		{Name: "full_ratio", Value: r.FullRatio, Max: targetBackupRatio, Pass: r.FullRatio <= targetBackupRatio},
		{Name: "incremental_ratio", Value: r.IncrementalRatio, Max: targetBackupRatio, Pass: r.IncrementalRatio <= targetBackupRatio},
	}
	r.Pass = r.Targets[0].Pass && r.Targets[1].Pass
	return r, nil
}

func writeBackupTable(w io.Writer, r BackupReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "backup benchmark: %d files, %.1f MiB; %d changed for the incremental; %s; %d runs\n\n",
		r.Data.Files, float64(r.Data.Bytes)/(1<<20), r.Data.ChangedFiles, r.Peer, r.Runs)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backup\thearth median ms\trestic median ms\tratio\tlimit\tresult\t")
	fmt.Fprintf(tw, "full\t%.0f\t%.0f\t%.3f\t%.1f\t%s\t\n", r.FullMSHearth, r.FullMSRestic, r.FullRatio, targetBackupRatio, passFail(r.Targets[0].Pass))
	fmt.Fprintf(tw, "incremental\t%.0f\t%.0f\t%.3f\t%.1f\t%s\t\n", r.IncrementalMSHearth, r.IncrementalMSRestic, r.IncrementalRatio, targetBackupRatio, passFail(r.Targets[1].Pass))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pairedRatio is the median of hs[i]/rs[i], rounded to 3 decimals.
func pairedRatio(hs, rs []float64) (float64, error) {
	if len(hs) != len(rs) || len(hs) == 0 {
		return 0, fmt.Errorf("backup benchmark: %d and %d samples", len(hs), len(rs))
	}
	ratios := make([]float64, len(hs))
	for i := range hs {
		if rs[i] <= 0 {
			return 0, fmt.Errorf("backup benchmark: restic took no time")
		}
		ratios[i] = hs[i] / rs[i]
	}
	m, err := percentile(ratios, 50)
	if err != nil {
		return 0, err
	}
	return round(m, 3), nil
}
