package deck

import (
	"image"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// paintProbe tells when the window has painted a frame: it is a 1x1
// raster whose generator runs only while a frame is being painted. After a
// change, Mark refreshes it; Painted reports whether the frame holding that
// change has been painted. The smoke run waits for it before each
// screenshot, instead of guessing with a sleep.
type paintProbe struct {
	raster  *canvas.Raster
	want    atomic.Uint64
	painted atomic.Uint64
	img     *image.NRGBA

	firstOnce sync.Once
	first     chan struct{} // closed once the first frame is painted
	firstAt   time.Time
}

func newPaintProbe() *paintProbe {
	p := &paintProbe{img: image.NewNRGBA(image.Rect(0, 0, 1, 1)), first: make(chan struct{})}
	p.raster = canvas.NewRaster(func(w, h int) image.Image {
		p.painted.Store(p.want.Load())
		p.firstOnce.Do(func() {
			p.firstAt = time.Now()
			close(p.first)
		})
		return p.img
	})
	// A zero-sized object is never painted.
	p.raster.SetMinSize(fyne.NewSize(1, 1))
	return p
}

// mark asks for a frame; call it on the Fyne goroutine after a change.
func (p *paintProbe) mark() uint64 {
	n := p.want.Add(1)
	p.raster.Refresh()
	return n
}

// paintedSince reports whether frame n (from mark) was painted.
func (p *paintProbe) paintedSince(n uint64) bool { return p.painted.Load() >= n }
