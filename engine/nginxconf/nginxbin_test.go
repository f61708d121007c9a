package nginxconf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strings"
	"testing"
)

// nginxBinary is the peer the directive table is checked against.
const nginxBinary = "/usr/sbin/nginx"

// binCommand is one ngx_command_t read out of the nginx binary.
type binCommand struct {
	module string // CORE, CONF, EVENT, HTTP
	name   string
	flags  uint64
	set    uint64 // address of the handler
	post   uint64 // address of the post data (enum and bitmask tables)
	kind   ValueKind
	values []string
}

// nginx's module type signatures (ngx_module_t.type).
var moduleTypes = map[uint64]string{
	0x45524F43: "CORE", 0x464E4F43: "CONF", 0x544E5645: "EVENT",
	0x50545448: "HTTP", 0x4C49414D: "MAIL", 0x4D525453: "STRM",
}

// readNginxCommands reads every statically linked module's command table
// from an x86-64 PIE nginx binary. The binary is stripped, so it finds
// ngx_module_t structures by shape: a pointer (a R_X86_64_RELATIVE
// relocation) to an array of ngx_command_t at offset 64, followed by a
// module type signature. Pointers in .data are zero in the file and only
// exist as relocation addends.
func readNginxCommands(path string) ([]binCommand, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%s: reading command tables needs an x86-64 binary, got %v", path, f.Machine)
	}
	rel := map[uint64]uint64{}
	rs := f.Section(".rela.dyn")
	if rs == nil {
		return nil, fmt.Errorf("%s: no .rela.dyn", path)
	}
	rd, err := rs.Data()
	if err != nil {
		return nil, err
	}
	for i := 0; i+24 <= len(rd); i += 24 {
		if binary.LittleEndian.Uint64(rd[i+8:])&0xffffffff == uint64(elf.R_X86_64_RELATIVE) {
			rel[binary.LittleEndian.Uint64(rd[i:])] = binary.LittleEndian.Uint64(rd[i+16:])
		}
	}
	ro, ds := f.Section(".rodata"), f.Section(".data")
	if ro == nil || ds == nil {
		return nil, fmt.Errorf("%s: no .rodata or .data", path)
	}
	rod, err := ro.Data()
	if err != nil {
		return nil, err
	}
	dd, err := ds.Data()
	if err != nil {
		return nil, err
	}
	inData := func(a, n uint64) bool { return a >= ds.Addr && a+n <= ds.Addr+uint64(len(dd)) }
	word := func(a uint64) uint64 { return binary.LittleEndian.Uint64(dd[a-ds.Addr:]) }
	cstr := func(a, n uint64) (string, bool) {
		if a < ro.Addr || a+n+1 > ro.Addr+uint64(len(rod)) {
			return "", false
		}
		b := rod[a-ro.Addr : a-ro.Addr+n+1]
		if b[n] != 0 {
			return "", false
		}
		for _, c := range b[:n] {
			if c < 0x21 || c > 0x7e {
				return "", false
			}
		}
		return string(b[:n]), true
	}
	// command reads the ngx_command_t at a: {ngx_str_t name; type; set;
	// conf; offset; post}, 56 bytes.
	command := func(a uint64) (binCommand, bool) {
		if !inData(a, 56) {
			return binCommand{}, false
		}
		n := word(a)
		p, ok := rel[a+8]
		if !ok || n == 0 || n > 64 {
			return binCommand{}, false
		}
		name, ok := cstr(p, n)
		if !ok {
			return binCommand{}, false
		}
		set, ok := rel[a+24]
		if !ok {
			return binCommand{}, false
		}
		return binCommand{name: name, flags: word(a + 16), set: set, post: rel[a+48]}, true
	}
	// table reads a {ngx_str_t name; ngx_uint_t value} array (the enum
	// and bitmask tables), 24 bytes an entry, ended by a null name.
	table := func(a uint64) []string {
		var out []string
		for ; inData(a, 24) && word(a) != 0; a += 24 {
			s, ok := cstr(rel[a+8], word(a))
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	var cmds []binCommand
	seen := map[uint64]bool{}
	for a := ds.Addr; inData(a, 80); a += 8 {
		cp, ok := rel[a+64]
		if !ok || seen[cp] {
			continue
		}
		mod, ok := moduleTypes[word(a+72)]
		if !ok {
			continue
		}
		if _, ok := command(cp); !ok {
			continue
		}
		seen[cp] = true
		for c := cp; ; c += 56 {
			cmd, ok := command(c)
			if !ok {
				break
			}
			cmd.module = mod
			cmds = append(cmds, cmd)
		}
	}
	// The generic slot handlers are found through a directive known to use
	// each one.
	anchors := map[string]ValueKind{
		"daemon": ValueFlag, "pid": ValueString, "worker_rlimit_nofile": ValueNumber,
		"connection_pool_size": ValueSize, "client_max_body_size": ValueOffset,
		"client_header_timeout": ValueMsec, "open_file_cache_valid": ValueSec,
		"server_tokens": ValueEnum, "gzip_proxied": ValueBitmask,
		"gzip_buffers": ValueBufs, "proxy_hide_header": ValueStringArray,
		"proxy_set_header": ValueKeyValue,
	}
	kinds := map[uint64]ValueKind{}
	for _, c := range cmds {
		if k, ok := anchors[c.name]; ok {
			kinds[c.set] = k
		}
	}
	if len(kinds) != len(anchors) {
		return nil, fmt.Errorf("%s: found %d of the %d slot handlers", path, len(kinds), len(anchors))
	}
	for i, c := range cmds {
		cmds[i].kind = kinds[c.set]
		if k := kinds[c.set]; k == ValueEnum || k == ValueBitmask {
			cmds[i].values = table(c.post)
		}
	}
	return cmds, nil
}

// specOf turns an ngx_command_t into a Spec (Implemented left unset).
func specOf(c binCommand) (Spec, bool) {
	s := Spec{Name: c.name, Value: c.kind, Values: c.values}
	f := c.flags
	switch c.module {
	case "CORE":
		if f&0x01000000 != 0 {
			s.Contexts |= CtxMain
		}
	case "CONF":
		s.Contexts = CtxAny
	case "EVENT":
		if f&0x02000000 != 0 {
			s.Contexts |= CtxEvents
		}
	case "HTTP":
		for bit, ctx := range map[uint64]Context{
			0x02000000: CtxHTTP, 0x04000000: CtxServer, 0x08000000: CtxLocation,
			0x10000000: CtxUpstream, 0x20000000: CtxIfInServer,
			0x40000000: CtxIfInLocation, 0x80000000: CtxLimitExcept,
		} {
			if f&bit != 0 {
				s.Contexts |= ctx
			}
		}
	default:
		return s, false // mail and stream are dynamic modules in Debian
	}
	s.Args = Arity(f & 0xff)
	for bit, a := range map[uint64]Arity{0x200: ArgsFlag, 0x400: ArgsAny, 0x800: Args1More, 0x1000: Args2More} {
		if f&bit != 0 {
			s.Args |= a
		}
	}
	s.Block = f&0x100 != 0
	return s, true
}

func nginxSpecs(t *testing.T) []Spec {
	t.Helper()
	cmds, err := readNginxCommands(nginxBinary)
	if err != nil {
		t.Fatalf("reading nginx's directive table: %v", err)
	}
	var out []Spec
	for _, c := range cmds {
		if s, ok := specOf(c); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestDirectiveTableMatchesNginx checks the directive table against the
// command tables compiled into the installed nginx: same names, in the same
// order, with the same contexts, arities, block flags and value handlers.
// Run with WSGIDECK_REGEN_NGINX_TABLE=1 to rewrite directives_nginx.go.
func TestDirectiveTableMatchesNginx(t *testing.T) {
	if os.Getenv("WSGIDECK_REGEN_NGINX_TABLE") == "1" {
		regenTable(t)
		return
	}
	got := nginxSpecs(t)
	if len(got) < 400 {
		t.Fatalf("read only %d directives from %s", len(got), nginxBinary)
	}
	want := nginxDirectives
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w Spec
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g.Name != w.Name || g.Contexts != w.Contexts || g.Args != w.Args ||
			g.Block != w.Block || g.Value != w.Value || !slices.Equal(g.Values, w.Values) {
			t.Fatalf("directive %d: nginx has %+v, table has %+v", i, g, w)
		}
	}
}

func regenTable(t *testing.T) {
	cmds, err := readNginxCommands(nginxBinary)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by TestDirectiveTableMatchesNginx with WSGIDECK_REGEN_NGINX_TABLE=1; DO NOT EDIT.\n\n")
	b.WriteString("package nginxconf\n\n")
	b.WriteString("// nginxDirectives is every directive known to Debian 12's nginx 1.22.1\n")
	b.WriteString("// without load_module, read from the command tables of its modules, in\n")
	b.WriteString("// module order (the order ngx_conf_handler searches them).\n")
	b.WriteString("var nginxDirectives = []Spec{\n")
	for _, c := range cmds {
		s, ok := specOf(c)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\t{Name: %q, Contexts: %s, Args: %s", s.Name, ctxExpr(s.Contexts), arityExpr(s.Args))
		if s.Block {
			b.WriteString(", Block: true")
		}
		if s.Value != ValueCustom {
			fmt.Fprintf(&b, ", Value: %s", valueKindNames[s.Value])
		}
		if len(s.Values) > 0 {
			fmt.Fprintf(&b, ", Values: []string{%s}", quoteList(s.Values))
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("directives_nginx.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote directives_nginx.go")
}

var valueKindNames = map[ValueKind]string{
	ValueFlag: "ValueFlag", ValueString: "ValueString", ValueNumber: "ValueNumber",
	ValueSize: "ValueSize", ValueOffset: "ValueOffset", ValueMsec: "ValueMsec",
	ValueSec: "ValueSec", ValueEnum: "ValueEnum", ValueBitmask: "ValueBitmask",
	ValueBufs: "ValueBufs", ValueStringArray: "ValueStringArray", ValueKeyValue: "ValueKeyValue",
}

func ctxExpr(c Context) string {
	if c == CtxAny {
		return "CtxAny"
	}
	names := map[Context]string{
		CtxMain: "CtxMain", CtxEvents: "CtxEvents", CtxHTTP: "CtxHTTP", CtxServer: "CtxServer",
		CtxLocation: "CtxLocation", CtxIfInServer: "CtxIfInServer", CtxIfInLocation: "CtxIfInLocation",
		CtxUpstream: "CtxUpstream", CtxLimitExcept: "CtxLimitExcept",
	}
	var parts []string
	for bit := Context(1); bit != 0 && bit <= CtxCharsetMap; bit <<= 1 {
		if c&bit != 0 {
			parts = append(parts, names[bit])
		}
	}
	return strings.Join(parts, "|")
}

func arityExpr(a Arity) string {
	var parts []string
	for bit, n := range map[Arity]string{ArgsFlag: "ArgsFlag", ArgsAny: "ArgsAny", Args1More: "Args1More", Args2More: "Args2More"} {
		if a&bit != 0 {
			parts = append(parts, n)
		}
	}
	for n := 0; n <= maxArgs; n++ {
		if a&(1<<n) != 0 {
			parts = append(parts, fmt.Sprintf("Args%d", n))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "|")
}

func quoteList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
