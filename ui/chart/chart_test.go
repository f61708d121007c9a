package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// t0 is "now" for every deterministic chart.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// newTestApp starts a test app with the given theme for the test.
func newTestApp(t *testing.T, th fyne.Theme) {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(th)
}

// cpuChart is a percent chart with n workers of deterministic data over the
// last 15 minutes at 1 Hz.
func cpuChart(n int) *Chart {
	c := NewChart(Percent)
	c.Now = fixedNow
	for k := 899; k >= 0; k-- {
		ts := t0.Add(-time.Duration(k) * time.Second)
		for w := 0; w < n; w++ {
			phase := float64(w) * 0.9
			v := 30 + 12*float64(w%3) + 18*math.Sin(float64(k)/40+phase) + 6*math.Sin(float64(k)/7+2*phase)
			c.Push(workerName(w), ts, math.Max(0, v))
		}
	}
	c.Refresh()
	return c
}

func workerName(w int) string { return fmt.Sprintf("worker %d", w+1) }

func TestGoldenEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   fyne.Theme
	}{{"chart/empty_light.png", theme.LightTheme()}, {"chart/empty_dark.png", theme.DarkTheme()}} {
		t.Run(tc.name, func(t *testing.T) {
			newTestApp(t, tc.th)
			c := NewChart(Percent)
			c.Now = fixedNow
			c.Resize(fyne.NewSize(480, 240))
			test.AssertObjectRendersToImage(t, tc.name, c)
		})
	}
}

func TestGoldenSeries(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   fyne.Theme
	}{{"chart/cpu_light.png", theme.LightTheme()}, {"chart/cpu_dark.png", theme.DarkTheme()}} {
		t.Run(tc.name, func(t *testing.T) {
			newTestApp(t, tc.th)
			c := cpuChart(4)
			c.Resize(fyne.NewSize(600, 300))
			test.AssertObjectRendersToImage(t, tc.name, c)
		})
	}
}

func TestGoldenHighlightHidden(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(4)
	c.Resize(fyne.NewSize(600, 300))
	c.SetHighlighted("worker 2")
	c.SetSeriesHidden("worker 4", true)
	test.AssertObjectRendersToImage(t, "chart/highlight.png", c)
}

func TestGoldenHover(t *testing.T) {
	newTestApp(t, theme.DarkTheme())
	c := cpuChart(4)
	c.SetWindow(time.Minute)
	c.Resize(fyne.NewSize(600, 300))
	w := test.NewTempWindow(t, c)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(600, 300))
	r := c.r
	mid := r.plotPos.Add(fyne.NewPos(r.plotSize.Width*0.4, r.plotSize.Height*0.5))
	test.MoveMouse(w.Canvas(), mid)
	test.AssertObjectRendersToImage(t, "chart/hover.png", c)
}

func TestGoldenBytesSixteen(t *testing.T) {
	newTestApp(t, theme.DarkTheme())
	c := NewChart(Bytes)
	c.Now = fixedNow
	c.SetWindow(15 * time.Minute)
	for k := 899; k >= 0; k-- {
		ts := t0.Add(-time.Duration(k) * time.Second)
		for w := 0; w < 16; w++ {
			v := float64(40+8*w)*1024*1024 + float64(k%(60+w))*256*1024
			if w == 3 && k > 300 && k < 420 {
				v = math.NaN() // worker 4 was down for two minutes
			}
			c.Push(workerName(w), ts, v)
		}
	}
	c.Refresh()
	c.Resize(fyne.NewSize(900, 300))
	test.AssertObjectRendersToImage(t, "chart/rss16.png", c)
}

// TestGoldenScale2 renders at twice the pixel density: the raster receives
// twice the pixels, so lines and grid stay crisp and proportionally thick.
func TestGoldenScale2(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(2)
	cv := software.NewCanvas()
	cv.SetPadded(false)
	cv.SetScale(2)
	cv.SetContent(c)
	cv.Resize(fyne.NewSize(360, 200))
	test.AssertRendersToImage(t, "chart/cpu_scale2.png", cv)
}

func TestEmptyStates(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := NewChart(Percent)
	c.Now = fixedNow
	c.Resize(fyne.NewSize(400, 200))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	if !r.empty.Visible() || r.empty.Text != "no data yet" {
		t.Fatalf("empty chart shows %q (visible %v), want \"no data yet\"", r.empty.Text, r.empty.Visible())
	}

	c.EmptyText = "engine stopped"
	c.Refresh()
	if r.empty.Text != "engine stopped" {
		t.Errorf("EmptyText: shows %q", r.empty.Text)
	}

	c.Push("a", t0.Add(-10*time.Minute), 1) // older than the 5m window
	c.Refresh()
	if want := "no data in the last 5m"; r.empty.Text != want {
		t.Errorf("stale data: shows %q, want %q", r.empty.Text, want)
	}

	c.Push("a", t0.Add(-time.Second), 2)
	c.Refresh()
	if r.empty.Visible() {
		t.Errorf("with data: empty text %q still visible", r.empty.Text)
	}

	c.SetSeriesHidden("a", true)
	if want := "all series hidden"; !r.empty.Visible() || r.empty.Text != want {
		t.Errorf("all hidden: shows %q, want %q", r.empty.Text, want)
	}

	c.SetSeriesHidden("a", false)
	c.Clear()
	if r.empty.Text != "engine stopped" || !r.empty.Visible() {
		t.Errorf("after Clear: shows %q", r.empty.Text)
	}
}

// legendCenter returns the canvas position of the named legend entry.
func legendCenter(t *testing.T, c *Chart, name string) fyne.Position {
	t.Helper()
	for _, e := range c.r.entries {
		if e.name == name {
			return e.Position().Add(fyne.NewPos(e.Size().Width/2, e.Size().Height/2))
		}
	}
	t.Fatalf("no legend entry %q", name)
	return fyne.Position{}
}

// countColor counts plot pixels drawn exactly in col (fully covered).
func countColor(r *chartRenderer, col fyne.Size, c color.NRGBA) int {
	img := r.draw(int(col.Width), int(col.Height)).(*image.RGBA)
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B && img.Pix[i+3] == 255 {
			n++
		}
	}
	return n
}

func TestLegendTap(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(3)
	w := test.NewTempWindow(t, c)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(600, 300))

	var highlights []string
	var hides []string
	c.OnHighlight = func(name string) { highlights = append(highlights, name) }
	c.OnHidden = func(name string, hidden bool) { hides = append(hides, fmt.Sprint(name, "=", hidden)) }

	r := c.r
	plotPx := r.plotSize
	colorOf := func(name string) color.NRGBA {
		for i, s := range c.series {
			if s.name == name {
				return r.colors[i]
			}
		}
		t.Fatalf("no series %q", name)
		return color.NRGBA{}
	}

	// Tap: highlight worker 2; it is drawn last and thicker, the others dimmed.
	before := countColor(r, plotPx, colorOf("worker 2"))
	test.TapCanvas(w.Canvas(), legendCenter(t, c, "worker 2"))
	if got := c.Highlighted(); got != "worker 2" {
		t.Fatalf("after tap, Highlighted() = %q, want worker 2", got)
	}
	if after := countColor(r, plotPx, colorOf("worker 2")); after <= before {
		t.Errorf("highlighted series covers %d full pixels, not more than the %d before", after, before)
	}
	if n := countColor(r, plotPx, colorOf("worker 1")); n != 0 {
		t.Errorf("other series still drawn at full opacity on %d pixels while one is highlighted", n)
	}
	if !r.entries[1].label.TextStyle.Bold {
		t.Error("highlighted legend entry is not bold")
	}

	// Tap again: highlight cleared.
	test.TapCanvas(w.Canvas(), legendCenter(t, c, "worker 2"))
	if got := c.Highlighted(); got != "" {
		t.Errorf("second tap: Highlighted() = %q, want none", got)
	}

	// Secondary tap: worker 1 hidden, not drawn, and out of the read-out.
	if countColor(r, plotPx, colorOf("worker 1")) == 0 {
		t.Fatal("worker 1 not drawn before hiding")
	}
	test.TapSecondaryAt(c, legendCenter(t, c, "worker 1"))
	if !c.SeriesHidden("worker 1") {
		t.Fatal("secondary tap did not hide worker 1")
	}
	if n := countColor(r, plotPx, colorOf("worker 1")); n != 0 {
		t.Errorf("hidden series drawn on %d pixels", n)
	}
	if r.entries[0].label.Color != r.th.disabled {
		t.Error("hidden legend entry not shown disabled")
	}
	// Highlighting a hidden series shows it again.
	test.TapCanvas(w.Canvas(), legendCenter(t, c, "worker 1"))
	if c.SeriesHidden("worker 1") || c.Highlighted() != "worker 1" {
		t.Errorf("tap on hidden entry: hidden=%v highlighted=%q", c.SeriesHidden("worker 1"), c.Highlighted())
	}

	wantHL := []string{"worker 2", "", "worker 1"}
	if fmt.Sprint(highlights) != fmt.Sprint(wantHL) {
		t.Errorf("OnHighlight calls %q, want %q", highlights, wantHL)
	}
	if fmt.Sprint(hides) != "[worker 1=true]" {
		t.Errorf("OnHidden calls %q", hides)
	}
}

func TestHoverReadout(t *testing.T) {
	newTestApp(t, theme.DarkTheme())
	c := NewChart(Milliseconds)
	c.Now = fixedNow
	c.SetWindow(time.Minute)
	// "a" is the number of seconds before t0; "b" stopped 20 s ago.
	for k := 120; k >= 0; k-- {
		ts := t0.Add(-time.Duration(k) * time.Second)
		c.Push("a", ts, float64(k))
		if k >= 20 {
			c.Push("b", ts, 5)
		}
	}
	c.Refresh()
	w := test.NewTempWindow(t, c)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(600, 300))
	r := c.r

	at := func(ago time.Duration) fyne.Position {
		return fyne.NewPos(r.xFor(t0.Add(-ago).UnixNano()), r.plotPos.Y+r.plotSize.Height/2)
	}
	test.MoveMouse(w.Canvas(), at(30*time.Second))
	if !r.cross.Visible() || !r.tipBg.Visible() {
		t.Fatal("hover over the plot shows no crosshair or read-out")
	}
	if want := "15:08:56  -30s"; r.tipTime.Text != want {
		t.Errorf("read-out time %q, want %q", r.tipTime.Text, want)
	}
	if got := r.rows[0].value.Text; got != "30 ms" {
		t.Errorf("a at -30s reads %q, want \"30 ms\"", got)
	}
	if got := r.rows[1].value.Text; got != "5 ms" {
		t.Errorf("b at -30s reads %q, want \"5 ms\"", got)
	}
	if x := r.cross.Position1.X; math.Abs(float64(x-at(30*time.Second).X)) > 0.5 {
		t.Errorf("crosshair at x=%v, want the sample's x %v", x, at(30*time.Second).X)
	}
	if !r.markers[0].Visible() || !r.markers[1].Visible() {
		t.Error("markers not shown on both series")
	}

	// 10 s ago "b" had stopped: no value for it, no marker.
	test.MoveMouse(w.Canvas(), at(10*time.Second))
	if got := r.rows[1].value.Text; got != "–" {
		t.Errorf("b after it stopped reads %q, want \"–\"", got)
	}
	if r.markers[1].Visible() {
		t.Error("marker shown for a series with no sample there")
	}

	// New data moves "now": the read-out follows the samples under the mouse.
	c.Now = func() time.Time { return t0.Add(time.Second) }
	c.Push("a", t0.Add(time.Second), 99)
	c.Refresh()
	if r.tipTime.Text == "" || !r.tipBg.Visible() {
		t.Error("read-out vanished after a refresh")
	}

	// Over the legend, outside the plot: hidden.
	test.MoveMouse(w.Canvas(), fyne.NewPos(5, 295))
	if r.cross.Visible() || r.tipBg.Visible() {
		t.Error("read-out still shown with the mouse outside the plot")
	}
	test.MoveMouse(w.Canvas(), at(30*time.Second))
	c.MouseOut()
	if r.cross.Visible() || r.tipBg.Visible() || r.markers[0].Visible() {
		t.Error("read-out still shown after MouseOut")
	}
}

func TestSeriesSetChanges(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(3)
	c.Resize(fyne.NewSize(600, 300))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	col2 := r.colors[1]

	c.Push("worker 9", t0, 10)
	c.Refresh()
	if len(r.entries) != 4 || r.entries[3].name != "worker 9" {
		t.Fatalf("new series not in the legend: %d entries", len(r.entries))
	}
	c.RemoveSeries("worker 2")
	if got := fmt.Sprint(c.Names()); got != "[worker 1 worker 3 worker 9]" {
		t.Errorf("Names() after remove = %s", got)
	}
	c.Push("worker 2", t0, 10)
	c.Refresh()
	if got := r.colors[3]; got != col2 {
		t.Errorf("worker 2 came back with colour %v, want its old %v", got, col2)
	}
	if r.colors[0] == r.colors[1] || r.colors[1] == r.colors[2] {
		t.Error("different series share a colour")
	}

	c.SetSeriesColor("worker 9", theme.ColorNameError)
	if got, want := r.colors[2], nrgba(theme.LightTheme().Color(theme.ColorNameError, theme.VariantLight)); got != want {
		t.Errorf("SetSeriesColor: colour %v, want the theme's error colour %v", got, want)
	}
}

func TestWindowAndAxes(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(2)
	c.Resize(fyne.NewSize(600, 300))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	labels := func() []string {
		var out []string
		for i := range r.xLabels {
			if r.xLabels[i].Visible() {
				out = append(out, r.xLabels[i].Text)
			}
		}
		return out
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Minute, "[now -10s -20s -30s -40s -50s -1m]"},
		{5 * time.Minute, "[now -1m -2m -3m -4m -5m]"},
		{15 * time.Minute, "[now -5m -10m -15m]"},
	} {
		c.SetWindow(tc.d)
		if got := fmt.Sprint(labels()); got != tc.want {
			t.Errorf("window %v: time labels %s, want %s", tc.d, got, tc.want)
		}
	}
	var ys []string
	for i := range r.yLabels {
		if r.yLabels[i].Visible() {
			ys = append(ys, r.yLabels[i].Text)
		}
	}
	if got := fmt.Sprint(ys); got != "[0% 20% 40% 60% 80%]" {
		t.Errorf("Y labels %s", got)
	}

	c.SoftMax = 100
	c.Refresh()
	if r.ax.hi != 100 {
		t.Errorf("SoftMax 100: axis top %v", r.ax.hi)
	}
}

// bigTheme doubles every size of the default theme.
type bigTheme struct{ fyne.Theme }

func (b bigTheme) Size(n fyne.ThemeSizeName) float32 { return 2 * b.Theme.Size(n) }

func TestSizesFollowTheme(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(2)
	small := c.MinSize()
	c.Resize(fyne.NewSize(600, 300))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	smallGutter := r.gutter

	fyne.CurrentApp().Settings().SetTheme(bigTheme{theme.LightTheme()})
	c.Refresh()
	big := c.MinSize()
	if big.Width < 1.9*small.Width || big.Height < 1.9*small.Height {
		t.Errorf("MinSize %v with doubled theme sizes, was %v", big, small)
	}
	if r.gutter < 1.9*smallGutter {
		t.Errorf("Y-label gutter %v with doubled text, was %v", r.gutter, smallGutter)
	}
	if r.yLabels[0].TextSize != 2*theme.LightTheme().Size(theme.SizeNameCaptionText) {
		t.Errorf("axis text size %v does not follow the theme", r.yLabels[0].TextSize)
	}
}

func TestWindowSelector(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	var got time.Duration
	sel := NewWindowSelector(5*time.Minute, func(d time.Duration) { got = d })
	if fmt.Sprint(sel.Options) != "[1m 5m 15m]" || sel.Selected != "5m" {
		t.Fatalf("options %v selected %q", sel.Options, sel.Selected)
	}
	sel.SetSelected("15m")
	if got != 15*time.Minute {
		t.Errorf("choosing 15m reported %v", got)
	}
}

// TestSingleSampleVisible: the first sample of a new series has nothing to
// join, so it is drawn as a dot rather than not at all.
func TestSingleSampleVisible(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := NewChart(Percent)
	c.Now = fixedNow
	c.Push("new", t0.Add(-time.Minute), 50)
	c.Refresh()
	c.Resize(fyne.NewSize(400, 200))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	w, h := int(r.plotSize.Width), int(r.plotSize.Height)
	img := r.draw(w, h).(*image.RGBA)
	x := int(math.Round(float64(w-1) * 4 / 5)) // one minute into a five-minute window
	y := int(math.Round(float64(h-1) * (r.ax.hi - 50) / (r.ax.hi - r.ax.lo)))
	got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	want := r.colors[0]
	if got.A < 128 || absDiff(got.R, want.R) > 8 || absDiff(got.G, want.G) > 8 || absDiff(got.B, want.B) > 8 {
		t.Errorf("a lone sample at (%d,%d) draws %v, want about %v", x, y, got, want)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestAxisAppearsWithFlatData: the first samples of an idle series (all 0)
// keep the empty chart's 0..1 scale, and the Y labels must still appear.
func TestAxisAppearsWithFlatData(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := NewChart(Percent)
	c.Now = fixedNow
	c.Resize(fyne.NewSize(400, 200))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	c.Push("idle", t0.Add(-time.Hour), 0) // the series exists, but no data in the window
	c.Refresh()
	if r.yLabels[0].Visible() {
		t.Fatal("Y labels shown with no data")
	}
	c.Push("idle", t0.Add(-2*time.Second), 0)
	c.Push("idle", t0.Add(-time.Second), 0)
	c.Refresh()
	if !r.yLabels[0].Visible() || r.yLabels[0].Text != "0%" {
		t.Errorf("Y labels after flat data: visible %v text %q", r.yLabels[0].Visible(), r.yLabels[0].Text)
	}
}

// TestHighlightRelayoutsLegend: a bold (highlighted) legend entry is wider,
// so the entries after it move right rather than overlap it.
func TestHighlightRelayoutsLegend(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	c := cpuChart(3)
	c.Resize(fyne.NewSize(600, 300))
	r := test.TempWidgetRenderer(t, c).(*chartRenderer)
	w0 := r.entries[0].Size().Width
	c.SetHighlighted("worker 1")
	if w1 := r.entries[0].Size().Width; w1 <= w0 {
		t.Errorf("bold entry width %v, not wider than %v", w1, w0)
	}
	if end, next := r.entries[0].Position().X+r.entries[0].Size().Width, r.entries[1].Position().X; next <= end {
		t.Errorf("entry 2 at %v overlaps the highlighted entry ending at %v", next, end)
	}
}

// The labels and legend are drawn into the overlay raster, which is drawn
// anew only when they change: a new sample within the same scale leaves
// it alone, a highlight or a new scale does not.
func TestOverlayRedrawnOnlyOnChange(t *testing.T) {
	newTestApp(t, theme.LightTheme())
	now := t0
	c := NewChart(Percent)
	c.Now = func() time.Time { return now }
	c.SoftMax = 100
	c.SetWindow(time.Minute)
	for k := 30; k >= 0; k-- {
		c.Push("worker 1", t0.Add(-time.Duration(k)*time.Second), 40)
		c.Push("worker 2", t0.Add(-time.Duration(k)*time.Second), 60)
	}
	w := test.NewWindow(c)
	defer w.Close()
	w.Resize(fyne.NewSize(500, 260))
	c.Refresh()
	r := c.r
	before := r.ov.drawn
	if before == 0 || len(r.ov.items) == 0 {
		t.Fatalf("overlay never drawn (%d times, %d items)", before, len(r.ov.items))
	}
	for i := 1; i <= 5; i++ {
		now = t0.Add(time.Duration(i) * time.Second)
		c.Push("worker 1", now, 40+float64(i))
		c.Push("worker 2", now, 60-float64(i))
		c.Refresh()
	}
	if r.ov.drawn != before {
		t.Errorf("overlay redrawn %d times by samples within the same scale, want 0", r.ov.drawn-before)
	}
	c.SetHighlighted("worker 2")
	if r.ov.drawn == before {
		t.Error("overlay not redrawn after a highlight (the legend entry turns bold)")
	}
	hl := r.ov.drawn
	now = now.Add(time.Second)
	c.Push("worker 1", now, 250) // past SoftMax: a new scale
	c.Refresh()
	if r.ov.drawn == hl {
		t.Error("overlay not redrawn after the Y scale changed")
	}
	var labels []string
	for _, it := range r.ov.items {
		labels = append(labels, it.text)
	}
	if !strings.Contains(strings.Join(labels, " "), "250%") && !strings.Contains(strings.Join(labels, " "), "300%") {
		t.Errorf("overlay labels after the new scale: %q, want the axis to reach 250%% or more", labels)
	}
}
