// Package nginxconf reads, checks and edits nginx configuration files the way
// nginx 1.22 does, without losing a byte.
//
// # Lexing
//
// [Lex] follows ngx_conf_read_token (src/core/ngx_conf_file.c) rule for rule:
// words end only at whitespace, ";" or "{" ("}", "#" and quotes are literal
// inside a bare word), "${" does not end a word, a quoted word must be
// followed by whitespace, ";", "{" or ")", "\"", "\'", "\\", "\t", "\r" and
// "\n" are unescaped while any other backslash pair is kept as written, and a
// token may not grow past 4096 bytes. Every byte of the input belongs to
// exactly one [Token]: whitespace and comments are tokens too, so the token
// texts concatenated give back the input.
//
// # The tree
//
// [Parse] turns one file into a [File]: its path, its source bytes and a root
// [Block] of [Directive]s. A directive is a name, its [Arg]s (each with the
// unescaped Value nginx sees and the Raw text as written), and a Block when it
// was written with braces. Every node records its byte span in File.Src and
// its line and column, and comments are kept (leading, same-line and inner
// comments on the directive; dangling ones on the block). The bodies of map,
// types, geo, split_clients and charset_map are ordinary directives too: each
// entry is a Directive whose Name is the first word.
//
// [Load] reads a main file and everything it includes. "include" is resolved
// like nginx does it: relative to the conf prefix (the main file's directory
// unless [Options].Prefix says otherwise), globbed when the pattern has one of
// "*?[" (in glob(3) order, hidden files only when the pattern says so), and
// read in place, in the context of the include directive. An include
// directive's matched files are in Directive.Included; a file included from
// several places is read once and shared. [Block.Expand] gives a block's
// directives with includes replaced by what they include, which is what nginx
// and the proxy see. Include cycles are an error rather than a crash.
//
// # Checking
//
// [Config.Check] walks the tree in the order nginx reads it and reports, in
// nginx's words and "in FILE:LINE" form, what nginx -t would: unknown
// directives, directives in the wrong context, wrong argument counts, a
// missing ";" or "{", bad flag, size and time values, duplicates, bad
// location nesting, shared memory zones (limit_req_zone, limit_conn_zone,
// *_cache_path and the directives that use their zones), and syntax
// errors. The first error in the list is the one nginx -t prints.
// Directives that nginx knows but wsgideck's proxy does not implement are
// accepted with a warning. The directive table ([Lookup]) lists every
// directive the Debian 12 nginx 1.22.1 binary knows without load_module,
// with its contexts and argument counts; any other directive is nginx's
// "unknown directive", after a load_module too (wsgideck loads no
// modules, and load_module itself only warns).
//
// Two errors nginx reports without a useful place name the directive: a
// zone that is used but never declared ("zero size shared memory zone",
// which nginx prints with no file and line) and a *_cache zone that no
// *_cache_path declares (nginx names the line of the http block's "}").
//
// # Editing
//
// Edits splice bytes: [Directive.SetArgs], [Directive.SetName],
// [Directive.Remove], [Block.Insert] and [Block.Append] replace only the byte
// ranges they must and leave every other byte of the file as it was. Nodes keep
// their identity across edits (their offsets and lines are updated), so a
// form can hold on to a *Directive. New directives are built with
// [NewDirective] and [NewBlockDirective]; [Format] renders such new nodes, with
// indentation inferred from the surrounding block. File.Bytes gives the
// edited file.
package nginxconf
