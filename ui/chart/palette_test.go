package chart

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

func TestPalette(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		th := theme.DefaultTheme()
		bg := th.Color(theme.ColorNameBackground, tc.v)
		p := palette(bg, th.Color(theme.ColorNamePrimary, tc.v))
		bgL, _, _ := toOKLab(bg)
		seen := map[color.NRGBA]bool{}
		for i, c := range p {
			if seen[c] {
				t.Errorf("%s: colour %d repeats %v", tc.name, i, c)
			}
			seen[c] = true
			if c.A != 255 {
				t.Errorf("%s: colour %d not opaque", tc.name, i)
			}
			// Every line must stand out from the background.
			l, _, _ := toOKLab(c)
			if d := l - bgL; d > -0.25 && d < 0.25 {
				t.Errorf("%s: colour %d %v lightness %.2f too close to the background's %.2f", tc.name, i, c, l, bgL)
			}
		}
		// The first colour has the theme's primary hue.
		_, pa, pb := toOKLab(th.Color(theme.ColorNamePrimary, tc.v))
		_, ca, cb := toOKLab(p[0])
		if pa*ca+pb*cb <= 0 {
			t.Errorf("%s: first colour %v is not in the primary's hue", tc.name, p[0])
		}
	}
}

func TestOKLabRoundTrip(t *testing.T) {
	for _, c := range []color.NRGBA{{R: 255, A: 255}, {G: 128, B: 64, A: 255}, {R: 40, G: 40, B: 40, A: 255}, {R: 255, G: 255, B: 255, A: 255}} {
		L, a, b := toOKLab(c)
		r, g, bl, ok := oklabToLinear(L, a, b)
		got := color.NRGBA{R: encode(r), G: encode(g), B: encode(bl), A: 255}
		if !ok || got != c {
			t.Errorf("round trip %v -> %v (in gamut %v)", c, got, ok)
		}
	}
}
