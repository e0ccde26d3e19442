package reuse_test

import (
	"math"
	"slices"
	"testing"

	"github.com/feedbackloop/feedbackloop/reuse"
)

func TestVectorsRoundTripAndCompare(t *testing.T) {
	v := []float32{1.5, -2, 0, float32(math.Pi)}
	if got := reuse.DecodeVector(reuse.EncodeVector(v)); !slices.Equal(got, v) {
		t.Errorf("round trip: %v, want %v", got, v)
	}
	cases := []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{2, 0}, 1},
		{[]float32{1, 0}, []float32{0, 3}, 0},
		{[]float32{1, 1}, []float32{-1, -1}, -1},
		{[]float32{1, 0}, []float32{1, 0, 0}, 0}, // other models' lengths do not compare
		{[]float32{0, 0}, []float32{1, 0}, 0},
	}
	for _, c := range cases {
		if got := reuse.Cosine(c.a, c.b); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
