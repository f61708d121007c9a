package chart

import (
	"image/color"
	"math"
)

// paletteSize is how many distinct automatic series colours there are; a
// chart with more series reuses them in order.
const paletteSize = 16

// goldenAngle spreads successive hues as far from all earlier ones as it can,
// so the first few series always get clearly different colours.
const goldenAngle = 137.50776405003785

// palette derives series colours from a theme: hues start at the theme's
// primary colour and step by the golden angle; lightness and chroma are fixed
// in the perceptual OKLCH space (so no hue looks brighter than another) and
// chosen to contrast with the theme's background. The second half of the
// palette repeats the hues at a different lightness.
func palette(background, primary color.Color) [paletteSize]color.NRGBA {
	bgL, _, _ := toOKLab(background)
	_, pa, pb := toOKLab(primary)
	hue := math.Atan2(pb, pa) * 180 / math.Pi
	if math.Hypot(pa, pb) < 0.02 || math.IsNaN(hue) { // a grey primary has no hue
		hue = 250
	}
	light, light2, chroma := 0.58, 0.45, 0.16 // for a light background
	if bgL < 0.6 {
		light, light2, chroma = 0.76, 0.88, 0.14
	}
	var p [paletteSize]color.NRGBA
	for i := range p {
		l := light
		if i >= paletteSize/2 {
			l = light2
		}
		// The second half is offset by half a step so its hues sit between
		// the first half's.
		h := hue + float64(i)*goldenAngle
		if i >= paletteSize/2 {
			h += goldenAngle / 2
		}
		p[i] = fromOKLCH(l, chroma, h)
	}
	return p
}

// toOKLab converts a colour to OKLab (Björn Ottosson, 2020).
func toOKLab(c color.Color) (L, a, b float64) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	r, g, bl := linear(n.R), linear(n.G), linear(n.B)
	l := math.Cbrt(0.4122214708*r + 0.5363137081*g + 0.0514528214*bl)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*bl)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*bl)
	return 0.2104542553*l + 0.7936177850*m - 0.0040720468*s,
		1.9779984951*l - 2.4285922050*m + 0.4505937099*s,
		0.0259040371*l + 0.7827717662*m - 0.8086757660*s
}

// fromOKLCH converts lightness, chroma and hue (degrees) to an opaque sRGB
// colour, lowering the chroma until the colour fits in the sRGB gamut.
func fromOKLCH(L, C, h float64) color.NRGBA {
	rad := h * math.Pi / 180
	for ; C > 0; C -= 0.005 {
		r, g, b, ok := oklabToLinear(L, C*math.Cos(rad), C*math.Sin(rad))
		if ok {
			return color.NRGBA{R: encode(r), G: encode(g), B: encode(b), A: 0xff}
		}
	}
	r, g, b, _ := oklabToLinear(L, 0, 0)
	return color.NRGBA{R: encode(r), G: encode(g), B: encode(b), A: 0xff}
}

func oklabToLinear(L, a, b float64) (r, g, bl float64, inGamut bool) {
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	r = 4.0767416621*l - 3.3077115913*m + 0.2309699292*s
	g = -1.2684380046*l + 2.6097574011*m - 0.3413193965*s
	bl = -0.0041960863*l - 0.7034186147*m + 1.7076147010*s
	const eps = 1e-4
	inGamut = r >= -eps && r <= 1+eps && g >= -eps && g <= 1+eps && bl >= -eps && bl <= 1+eps
	return r, g, bl, inGamut
}

// linear converts an sRGB channel to linear light.
func linear(v uint8) float64 {
	c := float64(v) / 255
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

// encode converts linear light to an sRGB channel.
func encode(c float64) uint8 {
	c = math.Max(0, math.Min(1, c))
	if c <= 0.0031308 {
		c *= 12.92
	} else {
		c = 1.055*math.Pow(c, 1/2.4) - 0.055
	}
	return uint8(math.Round(c * 255))
}

// nrgba converts any colour to non-premultiplied RGBA.
func nrgba(c color.Color) color.NRGBA {
	if c == nil {
		return color.NRGBA{}
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}

// withAlpha scales the colour's opacity by f.
func withAlpha(c color.NRGBA, f float64) color.NRGBA {
	c.A = uint8(math.Round(float64(c.A) * f))
	return c
}
