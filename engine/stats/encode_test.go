package stats

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// stripLayout removes the pretty-printing whitespace. It is exact for our
// documents and uWSGI's, whose strings never hold a raw newline or tab.
func stripLayout(b []byte) []byte {
	return []byte(strings.NewReplacer("\n", "", "\t", "").Replace(string(b)))
}

// TestEncodeMatchesRecordedUWSGI feeds the values of a document recorded
// from Debian's uWSGI 2.0.21 (two workers, one of them in a request) back
// through AppendJSON and expects the very same bytes.
func TestEncodeMatchesRecordedUWSGI(t *testing.T) {
	doc, err := os.ReadFile("testdata/uwsgi-2.0.21-two-workers.json")
	if err != nil {
		t.Fatal(err)
	}
	s := snapshotFromUWSGI(t, doc)
	got := AppendJSON(nil, &s, Format{})
	if !bytes.Equal(got, doc) {
		t.Fatalf("encoding differs from uWSGI's at byte %d:\n%s", firstDiff(got, doc), diffContext(got, doc))
	}
	min := AppendJSON(nil, &s, Format{Minified: true})
	if want := stripLayout(doc); !bytes.Equal(min, want) {
		t.Fatalf("minified differs at byte %d:\n%s", firstDiff(min, want), diffContext(min, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func diffContext(got, want []byte) string {
	i := firstDiff(got, want)
	from := max(i-120, 0)
	return "got:  ..." + string(got[from:min(i+60, len(got))]) + "\nwant: ..." + string(want[from:min(i+60, len(want))])
}

func sampleSnapshot() Snapshot {
	start := time.Unix(1795310821, 0)
	return Snapshot{
		Version: "2.0.21-wsgideck", PID: 100, UID: 1000, GID: 1000, CWD: "/home/ann/app",
		Sockets: []Socket{{Name: "127.0.0.1:3031", Proto: "uwsgi", MaxQueue: 100}},
		Workers: []Worker{
			{
				ID: 1, PID: 101, Accepting: true, Requests: 7, DeltaRequests: 3, Status: StatusBusy,
				RSS: 20 << 20, VSZ: 200 << 20, RunningTime: 1500 * time.Microsecond, LastSpawn: start,
				RespawnCount: 2, TX: 999, AvgRT: 250 * time.Microsecond,
				Apps: []App{{Requests: 7}},
				Cores: []Core{
					{ID: 0, Requests: 4, InRequest: true, RequestStart: start,
						Vars: []string{"REQUEST_METHOD=GET", `QUERY_STRING=q="a\b`, "HTTP_X=\x01\t\x7f", "HTTP_Y=é😀\xff"}},
					{ID: 1, Requests: 3, Vars: []string{"STALE=1"}, RequestStart: start},
				},
			},
			{ID: 2, Status: StatusCheap},
		},
	}
}

// TestEncodeEscapes checks that every string survives a standard JSON
// decoder, and that the output is pure ASCII.
func TestEncodeEscapes(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	tricky := []string{"", string(all), "é😀", "\xff\xfe", "\xed\xa0\x80", "a\u2028b", `\"\\`, "\x00"}
	for _, in := range tricky {
		e := encoder{}
		e.string(in)
		for i, c := range e.buf {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("%q: byte %d of the output is %#x, not printable ASCII: %s", in, i, c, e.buf)
			}
		}
		var out string
		if err := json.Unmarshal(e.buf, &out); err != nil {
			t.Fatalf("%q encodes as %s, which does not decode: %v", in, e.buf, err)
		}
		if want := validUTF8PerByte(in); out != want {
			t.Fatalf("%q round-trips as %q, want %q", in, out, want)
		}
	}
}

// validUTF8PerByte replaces each byte that is not part of valid UTF-8 with
// U+FFFD.
func validUTF8PerByte(s string) string {
	var b strings.Builder
	for _, r := range s { // range yields RuneError for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

func TestEncodeLayout(t *testing.T) {
	s := sampleSnapshot()
	doc := AppendJSON(nil, &s, Format{})
	if !json.Valid(doc) {
		t.Fatalf("not valid JSON:\n%s", doc)
	}
	if doc[len(doc)-1] != '}' {
		t.Fatalf("document ends with %q, want '}' and no newline", doc[len(doc)-1])
	}
	for _, want := range []string{
		"{\n\t\"version\":\"2.0.21-wsgideck\",\n\t\"listen_queue\":0,\n",
		"\t\"locks\":[\n\t\t{\n\t\t\t\"user 0\":0\n\t\t},\n",
		"\t\t\t\"status\":\"busy\",\n\t\t\t\"rss\":20971520,\n\t\t\t\"vsz\":209715200,\n\t\t\t\"running_time\":1500,\n\t\t\t\"last_spawn\":1795310821,\n",
		"\t\t\t\"avg_rt\":250,\n",
		"\t\t\t\t\t\"vars\":[\n\"REQUEST_METHOD=GET\",\n\"QUERY_STRING=q=\\\"a\\\\b\",\n\"HTTP_X=\\u0001\\t\\u007f\",\n\"HTTP_Y=\\u00e9\\ud83d\\ude00\\ufffd\",\n\"\"\n\t\t\t\t\t],\n",
		"\t\t\t\t\t\"req_info\":\t\t\t\t\t{\n\t\t\t\t\t\t\"request_start\":1795310821\n\t\t\t\t\t}\n",
		// An idle core shows no vars and no req_info, even if some are set.
		"\t\t\t\t\t\"in_request\":0,\n\t\t\t\t\t\"vars\":[\n\n\t\t\t\t\t],\n\t\t\t\t\t\"req_info\":\t\t\t\t\t{\n\n\t\t\t\t\t}\n",
		// A worker without apps or cores.
		"\t\t\t\"apps\":[\n\n\t\t\t],\n\t\t\t\"cores\":[\n\n\t\t\t]\n\t\t}\n\t]\n}",
	} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("document lacks %q:\n%s", want, doc)
		}
	}
	if bytes.Contains(doc, []byte("STALE")) {
		t.Errorf("an idle core's vars were written")
	}
	if got, want := AppendJSON(nil, &s, Format{Minified: true}), stripLayout(doc); !bytes.Equal(got, want) {
		t.Errorf("minified:\n%s\nwant\n%s", got, want)
	}

	noCores := AppendJSON(nil, &s, Format{NoCores: true})
	if bytes.Contains(noCores, []byte(`"cores"`)) || !json.Valid(noCores) {
		t.Errorf("stats-no-cores:\n%s", noCores)
	}
	if !bytes.Contains(noCores, []byte("\t\t\t\"apps\":[\n\n\t\t\t]\n\t\t}\n\t]\n}")) {
		t.Errorf("stats-no-cores: apps should close the worker:\n%s", noCores)
	}
}

// TestEncodePythonReads decodes the document with Python's json module, in
// its default strict mode, as every uWSGI stats reader does.
func TestEncodePythonReads(t *testing.T) {
	s := sampleSnapshot()
	doc := AppendJSON(nil, &s, Format{})
	cmd := exec.Command("/usr/bin/python3", "-c", `
import json, sys
d = json.loads(sys.stdin.buffer.read())
print(json.dumps(d["workers"][0]["cores"][0]["vars"]))`)
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	var vars []string
	if err := json.Unmarshal(out, &vars); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := append(append([]string{}, s.Workers[0].Cores[0].Vars...), "")
	want[3] = "HTTP_Y=é😀\ufffd"
	if !reflect.DeepEqual(vars, want) {
		t.Fatalf("python read vars %q, want %q", vars, want)
	}
}

func TestDefaultsAndHelpers(t *testing.T) {
	s := Snapshot{Workers: []Worker{{ID: 1}}}
	doc := AppendJSON(nil, &s, Format{Minified: true})
	for _, want := range []string{
		`"locks":[{"user 0":0},{"signal":0},{"filemon":0},{"timer":0},{"rbtimer":0},{"cron":0},{"rpc":0},{"snmp":0}]`,
		`"status":"idle"`, `"last_spawn":0`, `"sockets":[]`,
	} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("%s lacks %s", doc, want)
		}
	}
	if got := SignalStatus(17); got != "sig17" {
		t.Errorf("SignalStatus(17) = %q", got)
	}
	env := []byte("REQUEST_METHOD\x00GET\x00PATH_INFO\x00/a=b\x00EMPTY\x00\x00LAST")
	want := []string{"REQUEST_METHOD=GET", "PATH_INFO=/a=b", "EMPTY=", "LAST="}
	if got := VarsFromEnviron(env); !reflect.DeepEqual(got, want) {
		t.Errorf("VarsFromEnviron = %q, want %q", got, want)
	}
	if got := VarsFromEnviron(nil); got != nil {
		t.Errorf("VarsFromEnviron(nil) = %q", got)
	}
	if !utf8.ValidString(string(doc)) {
		t.Error("not UTF-8")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	s := sampleSnapshot()
	for i := 3; i <= 16; i++ {
		w := s.Workers[0]
		w.ID = i
		s.Workers = append(s.Workers, w)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &s, Format{})
	}
	b.SetBytes(int64(len(buf)))
}

// FuzzEncodeString checks that any string, bytes that are not UTF-8
// included, encodes as printable ASCII that a JSON decoder reads back as
// the string with each invalid byte replaced by U+FFFD.
func FuzzEncodeString(f *testing.F) {
	f.Add("REQUEST_URI=/a?b=\"c\"")
	f.Add("\x00\x01\x1f\x7f\\")
	f.Add("é😀\xff\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		e := encoder{}
		e.string(s)
		for _, c := range e.buf {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("%q encodes with byte %#x: %s", s, c, e.buf)
			}
		}
		var out string
		if err := json.Unmarshal(e.buf, &out); err != nil {
			t.Fatalf("%q encodes as %s: %v", s, e.buf, err)
		}
		if want := validUTF8PerByte(s); out != want {
			t.Fatalf("%q decodes as %q, want %q", s, out, want)
		}
	})
}

// TestDaemonsLayoutLikeUWSGI: "daemons" comes after "cwd" in uWSGI 2.0.21's
// layout, byte for byte (captured from the Debian package's stats socket
// with attach-daemon = sleep 1); without daemons the key is absent.
func TestDaemonsLayoutLikeUWSGI(t *testing.T) {
	const want = "\n\t\"cwd\":\"/tmp/ld\",\n\t\"daemons\":[\n\t\t{\n\t\t\t\"cmd\":\"sleep 1\",\n\t\t\t\"pid\":13306,\n\t\t\t\"respawns\":0\n\t\t}\n\t],\n\t\"locks\":"
	doc := string(AppendJSON(nil, &Snapshot{CWD: "/tmp/ld", Daemons: []Daemon{{Cmd: "sleep 1", PID: 13306}}}, Format{}))
	if !strings.Contains(doc, want) {
		t.Errorf("daemons section:\n%q\nwant it to contain\n%q", doc, want)
	}
	if doc := string(AppendJSON(nil, &Snapshot{CWD: "/tmp/ld"}, Format{})); strings.Contains(doc, "daemons") {
		t.Errorf("a document without daemons has the key:\n%s", doc)
	}
}
