//go:build !unix

package control

import "errors"

// accessTap needs named pipes; elsewhere the proxy's responses are not
// counted.
type accessTap struct {
	path string
}

func newAccessTap(func(string)) (*accessTap, error) {
	return nil, errors.New("this system has no named pipes")
}

func (t *accessTap) close() {}
