package dns

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	"github.com/miekg/dns"
)

// query asks server one question, as dig @server does, over UDP.
func query(ctx context.Context, server, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: "udp"}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", name, dns.TypeToString[qtype], server, err)
	}
	return r, nil
}

// answerAAAA is what a resolver would hand an application asking for
// name's AAAA at server: the rcode and the sorted addresses.
type answerAAAA struct {
	Rcode     string
	Addresses []string
	TTL       uint32
}

func resolveAAAA(ctx context.Context, server, name string) (answerAAAA, error) {
	r, err := query(ctx, server, name, dns.TypeAAAA)
	if err != nil {
		return answerAAAA{}, err
	}
	a := answerAAAA{Rcode: dns.RcodeToString[r.Rcode]}
	for _, rr := range r.Answer {
		if aaaa, ok := rr.(*dns.AAAA); ok {
			addr, _ := netip.AddrFromSlice(aaaa.AAAA)
			a.Addresses = append(a.Addresses, addr.String())
			a.TTL = aaaa.Hdr.Ttl
		}
	}
	sort.Strings(a.Addresses)
	return a, nil
}

// canonical writes an IPv6 address the way resolveAAAA reports it.
func canonical(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "invalid address " + addr
	}
	return a.String()
}
