// Package chart provides Chart, a live time-series line chart widget for Fyne,
// and Series, the fixed-capacity ring buffer it plots.
//
// The plot area is one canvas.Raster drawn into a reused *image.RGBA by an
// anti-aliased (Xiaolin Wu) line drawer, so a repaint costs one texture upload
// and no allocations, however many samples are on screen. Axis labels, the
// legend and the hover read-out are ordinary canvas objects that are laid out
// only when the window, the set of series or the tick labels change, never per
// sample.
//
// Everything in this package belongs to the Fyne goroutine: see Chart for the
// threading contract.
package chart
