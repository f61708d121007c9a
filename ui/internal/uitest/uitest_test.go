package uitest

import (
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestDoFromOtherGoroutinesWaitsForDrain(t *testing.T) {
	a := New(test.NewTempApp(t))
	var ran atomic.Int32
	fyne.Do(func() { ran.Add(1) }) // the owner: at once
	if ran.Load() != 1 {
		t.Fatalf("fyne.Do on the owner goroutine did not run at once")
	}
	queued := make(chan struct{})
	go func() {
		fyne.Do(func() {
			ran.Add(1)
			go fyne.Do(func() { ran.Add(1) }) // queued from inside a queued one
		})
		close(queued)
	}()
	<-queued
	if ran.Load() != 1 {
		t.Fatalf("fyne.Do from another goroutine ran before Drain")
	}
	a.Drain()
	if ran.Load() < 2 {
		t.Fatalf("Drain did not run the queued function")
	}
	done := make(chan struct{})
	go func() {
		fyne.DoAndWait(func() { ran.Add(10) })
		close(done)
	}()
	for {
		a.Drain()
		select {
		case <-done:
			if ran.Load() < 12 {
				t.Fatalf("DoAndWait returned before its function ran: %d", ran.Load())
			}
			return
		default:
		}
	}
}
