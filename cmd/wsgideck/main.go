// Command wsgideck is the desktop app. It is the only package that imports
// fyne.io/fyne/v2/app, so every UI package can be tested without cgo.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/assets"
)

func main() {
	a := app.NewWithID("io.github.wsgideck")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("wsgideck")
	w.SetContent(widget.NewLabel("wsgideck"))
	w.Resize(fyne.NewSize(1100, 720))
	w.ShowAndRun()
}
