// Package chart provides Chart, a live time-series line chart widget for Fyne,
// and Series, the fixed-capacity ring buffer it plots.
//
// The plot area is one canvas.Raster drawn into a reused *image.RGBA by an
// anti-aliased (Xiaolin Wu) line drawer, so a repaint costs one texture upload
// and no allocations, however many samples are on screen. Axis labels and the
// legend are laid out only when the window, the set of series or the tick
// labels change, never per sample, and drawn into two more rasters (the
// overlay, beside and below the plot) that are drawn anew only then: as canvas
// objects, the labels and legend of six charts of sixteen workers would add
// hundreds of objects to every frame the window paints. The hover read-out is
// ordinary canvas objects, shown only while the mouse is over the plot.
//
// Everything in this package belongs to the Fyne goroutine: see Chart for the
// threading contract.
package chart
