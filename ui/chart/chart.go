package chart

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Interface guards.
var (
	_ fyne.Widget            = (*Chart)(nil)
	_ desktop.Hoverable      = (*Chart)(nil)
	_ fyne.Tappable          = (*Chart)(nil)
	_ fyne.SecondaryTappable = (*Chart)(nil)
)

// Chart is a live line chart of named time series: the last Window of
// samples, the newest at the right edge ("now"), with an automatic Y scale,
// a legend and a hover read-out.
//
// Threading: a Chart, and every Series it holds, belongs to the Fyne
// goroutine. All mutation (Push, AddSeries, SetWindow, SetHighlighted, field
// writes, ...) must happen there: in a Fyne callback, or from another
// goroutine through fyne.Do, batching a tick's samples with one Refresh:
//
//	fyne.Do(func() {
//		for _, w := range snapshot.Workers {
//			cpu.Push(w.Name, snapshot.Time, w.CPU)
//		}
//		cpu.Refresh()
//	})
//
// Push does not redraw; Refresh does, at a cost of one raster repaint and no
// layout work unless the tick labels change.
//
// Legend: tapping an entry highlights that series (drawn last, thicker, the
// others dimmed) and tapping it again clears the highlight; a secondary tap
// (right click) hides or shows the series.
type Chart struct {
	widget.BaseWidget

	// Unit formats the Y axis and the hover values. Set it before the chart
	// is shown, or use SetUnit.
	Unit Unit
	// Window is the time span shown, ending now (DefaultWindow if 0).
	Window time.Duration
	// AutoMin starts the Y axis near the smallest visible value instead of
	// at 0 (the axis always includes 0 otherwise).
	AutoMin bool
	// SoftMax is a value the Y axis always reaches, such as 100 for a
	// percentage, so an idle chart does not magnify noise. 0 means none.
	SoftMax float64
	// Capacity is the number of samples kept by series that Push and
	// AddSeries create (DefaultCapacity if 0).
	Capacity int
	// EmptyText is shown when there are no samples ("no data yet" if "").
	EmptyText string
	// Now is the clock that places "now" at the right edge (time.Now if nil).
	Now func() time.Time

	// OnHighlight is called after a legend tap changed the highlighted
	// series; name is "" when the highlight was cleared.
	OnHighlight func(name string)
	// OnHidden is called after a legend tap hid or showed a series.
	OnHidden func(name string, hidden bool)

	series      []*Series
	slots       map[string]int // palette slot per name, for the chart's life
	colorNames  map[string]fyne.ThemeColorName
	hidden      map[string]bool
	highlighted string
	gen         int // bumped when series are added or removed
	styleGen    int // bumped when colours, visibility or highlight change

	hovering bool
	hoverPos fyne.Position

	r *chartRenderer // the current renderer, for hover updates
}

// NewChart returns an empty chart whose values are formatted with unit.
func NewChart(unit Unit) *Chart {
	c := &Chart{Unit: unit}
	c.ExtendBaseWidget(c)
	return c
}

// Push appends a sample to the named series, creating it (with Capacity
// samples) if needed. It reports false if the sample was older than the
// series' newest and so dropped. Call Refresh to show the new samples.
func (c *Chart) Push(name string, t time.Time, v float64) bool {
	return c.AddSeries(name).Push(t, v)
}

// AddSeries returns the named series, creating an empty one at the end of
// the legend if there is none. Call Refresh to show a new series.
func (c *Chart) AddSeries(name string) *Series {
	if s := c.Series(name); s != nil {
		return s
	}
	s := NewSeries(name, c.Capacity)
	c.series = append(c.series, s)
	if c.slots == nil {
		c.slots = make(map[string]int)
	}
	if _, ok := c.slots[name]; !ok {
		c.slots[name] = len(c.slots)
	}
	c.gen++
	return s
}

// Series returns the named series, or nil.
func (c *Chart) Series(name string) *Series {
	for _, s := range c.series {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Names returns the series names in legend order.
func (c *Chart) Names() []string {
	names := make([]string, len(c.series))
	for i, s := range c.series {
		names[i] = s.name
	}
	return names
}

// RemoveSeries drops the named series and refreshes. If it comes back later
// it gets its old colour again.
func (c *Chart) RemoveSeries(name string) {
	for i, s := range c.series {
		if s.name == name {
			c.series = append(c.series[:i], c.series[i+1:]...)
			if c.highlighted == name {
				c.highlighted = ""
			}
			delete(c.hidden, name)
			c.gen++
			c.Refresh()
			return
		}
	}
}

// Clear drops every sample of every series, keeps the series, and refreshes.
func (c *Chart) Clear() {
	for _, s := range c.series {
		s.Reset()
	}
	c.Refresh()
}

// SetUnit changes how values are formatted and refreshes.
func (c *Chart) SetUnit(u Unit) {
	c.Unit = u
	c.styleGen++
	c.Refresh()
}

// SetWindow sets the time span shown and refreshes.
func (c *Chart) SetWindow(d time.Duration) {
	c.Window = d
	c.Refresh()
}

// SetSeriesColor draws the named series in a theme colour, such as
// theme.ColorNameError for 5xx responses, instead of its palette colour; the
// colour follows the theme (light or dark). An empty colour name restores the
// palette colour. It refreshes.
func (c *Chart) SetSeriesColor(series string, color fyne.ThemeColorName) {
	if c.colorNames == nil {
		c.colorNames = make(map[string]fyne.ThemeColorName)
	}
	if color == "" {
		delete(c.colorNames, series)
	} else {
		c.colorNames[series] = color
	}
	c.styleGen++
	c.Refresh()
}

// SetHighlighted highlights the named series, or none if name is "", and
// refreshes. Highlighting a hidden series shows it.
func (c *Chart) SetHighlighted(name string) {
	c.highlighted = name
	if name != "" {
		delete(c.hidden, name)
	}
	c.styleGen++
	c.Refresh()
}

// Highlighted returns the name of the highlighted series, or "".
func (c *Chart) Highlighted() string { return c.highlighted }

// SetSeriesHidden hides or shows the named series and refreshes. A hidden
// series keeps receiving samples and stays in the legend.
func (c *Chart) SetSeriesHidden(name string, hidden bool) {
	if hidden {
		if c.hidden == nil {
			c.hidden = make(map[string]bool)
		}
		c.hidden[name] = true
		if c.highlighted == name {
			c.highlighted = ""
		}
	} else {
		delete(c.hidden, name)
	}
	c.styleGen++
	c.Refresh()
}

// SeriesHidden reports whether the named series is hidden.
func (c *Chart) SeriesHidden(name string) bool { return c.hidden[name] }

// CreateRenderer is a private method to Fyne which links this widget to its
// renderer.
func (c *Chart) CreateRenderer() fyne.WidgetRenderer {
	c.ExtendBaseWidget(c)
	r := newChartRenderer(c)
	c.r = r
	return r
}

// MinSize returns the size this widget should not shrink below.
func (c *Chart) MinSize() fyne.Size {
	c.ExtendBaseWidget(c)
	return c.BaseWidget.MinSize()
}

// MouseIn shows the hover read-out; part of desktop.Hoverable.
func (c *Chart) MouseIn(e *desktop.MouseEvent) { c.MouseMoved(e) }

// MouseMoved moves the hover crosshair; part of desktop.Hoverable.
func (c *Chart) MouseMoved(e *desktop.MouseEvent) {
	c.hovering, c.hoverPos = true, e.Position
	if c.r != nil {
		c.r.updateHover()
	}
}

// MouseOut hides the hover read-out; part of desktop.Hoverable.
func (c *Chart) MouseOut() {
	c.hovering = false
	if c.r != nil {
		c.r.updateHover()
	}
}

// Tapped highlights the series whose legend entry was tapped; part of
// fyne.Tappable. The legend is drawn in the chart's overlay, so the chart
// finds the entry under the tap.
func (c *Chart) Tapped(e *fyne.PointEvent) {
	if name, ok := c.legendAt(e.Position); ok {
		c.legendTapped(name, false)
	}
}

// TappedSecondary hides or shows the series whose legend entry was
// tapped; part of fyne.SecondaryTappable.
func (c *Chart) TappedSecondary(e *fyne.PointEvent) {
	if name, ok := c.legendAt(e.Position); ok {
		c.legendTapped(name, true)
	}
}

// legendAt returns the series whose legend entry holds p.
func (c *Chart) legendAt(p fyne.Position) (string, bool) {
	if c.r == nil {
		return "", false
	}
	for _, e := range c.r.entries {
		o, s := e.Position(), e.Size()
		if p.X >= o.X && p.X < o.X+s.Width && p.Y >= o.Y && p.Y < o.Y+s.Height {
			return e.name, true
		}
	}
	return "", false
}

// legendTapped implements the legend gestures.
func (c *Chart) legendTapped(name string, secondary bool) {
	if secondary {
		hide := !c.hidden[name]
		c.SetSeriesHidden(name, hide)
		if c.OnHidden != nil {
			c.OnHidden(name, hide)
		}
		return
	}
	if c.highlighted == name {
		name = ""
	}
	c.SetHighlighted(name)
	if c.OnHighlight != nil {
		c.OnHighlight(name)
	}
}

func (c *Chart) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Chart) window() time.Duration {
	if c.Window <= 0 {
		return DefaultWindow
	}
	return c.Window
}

func (c *Chart) emptyText() string {
	if c.EmptyText == "" {
		return "no data yet"
	}
	return c.EmptyText
}
