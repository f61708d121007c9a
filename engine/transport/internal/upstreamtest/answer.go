package upstreamtest

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// Answer is the script the transports' recording upstreams answer by, after
// reading a request for path:
//
//	/close    closes without answering
//	/hang     answers nothing until the peer goes away
//	/resp/KEY answers responses[KEY] verbatim
//	otherwise ok, a small 200 response in the protocol's framing
func Answer(c net.Conn, path string, responses map[string]string, ok string) error {
	switch {
	case path == "/close":
	case path == "/hang":
		io.Copy(io.Discard, c)
	case strings.HasPrefix(path, "/resp/"):
		resp, found := responses[strings.TrimPrefix(path, "/resp/")]
		if !found {
			return fmt.Errorf("no response %q", path)
		}
		c.Write([]byte(resp))
	default:
		c.Write([]byte(ok))
	}
	return nil
}
