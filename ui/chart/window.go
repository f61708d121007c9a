package chart

import (
	"time"

	"fyne.io/fyne/v2/widget"
)

// NewWindowSelector returns a horizontal choice of the Windows ("1m", "5m",
// "15m") with selected chosen, calling onChanged with the new window when the
// user picks one. The Graphs tab uses one selector for all its charts:
//
//	sel := chart.NewWindowSelector(chart.DefaultWindow, func(d time.Duration) {
//		for _, c := range charts {
//			c.SetWindow(d)
//		}
//	})
func NewWindowSelector(selected time.Duration, onChanged func(time.Duration)) *widget.RadioGroup {
	labels := make([]string, len(Windows))
	byLabel := make(map[string]time.Duration, len(Windows))
	for i, d := range Windows {
		labels[i] = windowLabel(d)
		byLabel[labels[i]] = d
	}
	g := widget.NewRadioGroup(labels, nil)
	g.Horizontal = true
	g.Required = true
	g.Selected = windowLabel(selected)
	g.OnChanged = func(s string) {
		if d, ok := byLabel[s]; ok && onChanged != nil {
			onChanged(d)
		}
	}
	return g
}

// windowLabel names a window: "1m", "15m", "1h".
func windowLabel(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return agoLabel(d)[1:]
}
