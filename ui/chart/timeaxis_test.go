package chart

import (
	"testing"
	"time"
)

func TestTimeStep(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		max    int
		want   time.Duration
	}{
		{time.Minute, 6, 10 * time.Second},
		{5 * time.Minute, 6, time.Minute},
		{15 * time.Minute, 6, 5 * time.Minute},
		{15 * time.Minute, 2, 10 * time.Minute},
		{time.Minute, 0, time.Minute},
		{10 * time.Second, 20, time.Second},
		{30 * 24 * time.Hour, 6, 5 * 24 * time.Hour},
	} {
		if got := timeStep(tc.window, tc.max); got != tc.want {
			t.Errorf("timeStep(%v, %d) = %v, want %v", tc.window, tc.max, got, tc.want)
		}
	}
}

func TestAgoLabel(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "now"}, {-time.Second, "now"}, {30 * time.Second, "-30s"}, {time.Minute, "-1m"},
		{90 * time.Second, "-1m30s"}, {15 * time.Minute, "-15m"}, {2 * time.Hour, "-2h"},
		{time.Hour + time.Second, "-1h1s"}, {1400 * time.Millisecond, "-1s"},
	} {
		if got := agoLabel(tc.d); got != tc.want {
			t.Errorf("agoLabel(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := windowLabel(15 * time.Minute); got != "15m" {
		t.Errorf("windowLabel(15m) = %q", got)
	}
}
