package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one sample", []float64{7}, 90, 7},
		{"median of odd count", []float64{3, 1, 2}, 50, 2},
		{"median of even count interpolates", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p0 is the minimum", []float64{5, 9, 1}, 0, 1},
		{"p100 is the maximum", []float64{5, 9, 1}, 100, 9},
		{"p10 interpolates between ranks", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, 10, 20},
		{"p90 of 1..10", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1},
		{"p10 of 1..10", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 10, 1.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.xs...)
			got, err := percentile(tt.xs, tt.p)
			if err != nil {
				t.Fatalf("percentile: %v", err)
			}
			if round(got, 9) != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if diff := cmp.Diff(in, tt.xs); diff != "" {
				t.Errorf("the input changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPercentileErrors(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
	}{
		{"no samples", nil, 50},
		{"below 0", []float64{1}, -1},
		{"above 100", []float64{1}, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := percentile(tt.xs, tt.p); err == nil {
				t.Errorf("got %v and no error, want an error", got)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	got, err := summarize([]float64{30, 10, 20, 50, 40})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{N: 5, P10: 14, Median: 30, P90: 46, Min: 10, Max: 50}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if _, err := summarize(nil); err == nil {
		t.Error("got no error for no samples, want one")
	}
}
