package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is the spread of one method's samples, in milliseconds.
type Summary struct {
	N      int     `json:"n"`
	P10    float64 `json:"p10_ms"`
	Median float64 `json:"median_ms"`
	P90    float64 `json:"p90_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
}

// percentile returns the p-th percentile (0..100) of xs by linear
// interpolation between the closest ranks (numpy's default, "type 7"). xs
// need not be sorted and is not changed. It is an error for xs to be empty.
func percentile(xs []float64, p float64) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("percentile of no samples")
	}
	if p < 0 || p > 100 || math.IsNaN(p) {
		return 0, fmt.Errorf("percentile %v: must be 0..100", p)
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return s[lo] + (s[hi]-s[lo])*(rank-float64(lo)), nil
}

// summarize computes the Summary of samples given in milliseconds.
func summarize(ms []float64) (Summary, error) {
	if len(ms) == 0 {
		return Summary{}, fmt.Errorf("summarize: no samples")
	}
	var s Summary
	var err error
	s.N = len(ms)
	if s.P10, err = percentile(ms, 10); err != nil {
		return Summary{}, err
	}
	if s.Median, err = percentile(ms, 50); err != nil {
		return Summary{}, err
	}
	if s.P90, err = percentile(ms, 90); err != nil {
		return Summary{}, err
	}
	s.Min, s.Max = slices.Min(ms), slices.Max(ms)
	return s, nil
}

// millis converts a duration to milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round rounds x to the given number of decimals (for stable JSON).
func round(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}
