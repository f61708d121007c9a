package upstream

import (
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestHeadersFromRequest covers the order used when the proxy did not hand
// over the raw header lines: Host first, then by name, repeats in order,
// without ReverseProxy's empty User-Agent placeholder.
func TestHeadersFromRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "http://app.example:8080/", nil)
	r.Header["Zeta"] = []string{"z"}
	r.Header["Cookie"] = []string{"a=1", "b=2"}
	r.Header["User-Agent"] = []string{""}
	r.Header["Host"] = []string{"ignored.example"}
	got := ClientHeaders(r)
	want := []HeaderField{{"Host", "app.example:8080"}, {"Cookie", "a=1"}, {"Cookie", "b=2"}, {"Zeta", "z"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	raw := []HeaderField{{"zeta", "z"}, {"Host", "x"}}
	if got := ClientHeaders(r.WithContext(WithClientHeaders(r.Context(), raw))); !reflect.DeepEqual(got, raw) {
		t.Errorf("with WithClientHeaders: got %q, want %q", got, raw)
	}
}

func TestHeaderVarNamesAndHiding(t *testing.T) {
	for name, want := range map[string]string{"X-Real-IP": "HTTP_X_REAL_IP", "accept": "HTTP_ACCEPT", "X_Under": "HTTP_X_UNDER", "Ünï": "HTTP_ÜNï"} {
		if got := string(AppendHeaderVarName(nil, name)); got != want {
			t.Errorf("headerVarName(%q) = %q, want %q", name, got, want)
		}
	}
	params := Params{{Key: "HTTP_X_REAL_IP", Value: "1"}, {Key: "HTTP_PROXY", Skip: true}, {Key: "HTTP_", Value: "x"}, {Key: "http_accept", Value: "x"}}
	for name, want := range map[string]bool{"X-Real-Ip": true, "x_real_ip": true, "Proxy": true, "Accept": false, "X-Real": false, "": false} {
		if got := hides(params, name); got != want {
			t.Errorf("hides(%q) = %v, want %v", name, got, want)
		}
	}
}
