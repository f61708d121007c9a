package proxy

import "net/netip"

// allowed applies allow/deny rules in order: the first that matches the
// client address decides; with none matching the request is allowed
// (ngx_http_access_module).
func (r *request) allowed(rules []accessRule) bool {
	if r.c.unix {
		for _, rl := range rules {
			if rl.all || rl.unix {
				return !rl.deny
			}
		}
		return true
	}
	addr, err := netip.ParseAddr(r.c.remoteIP)
	if err != nil {
		return true
	}
	addr = addr.Unmap()
	for _, rl := range rules {
		if rl.all || (rl.prefix.IsValid() && rl.prefix.Contains(addr)) {
			return !rl.deny
		}
	}
	return true
}
