package e2e

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// devAAAA asks the dev DNS server of `jetway-dev up` (its address from
// dev.env, as a newcomer's dig would) for name's AAAA: the rcode and the
// addresses.
func (s *stack) devAAAA(name string) string {
	s.t.Helper()
	addr := s.env["JETWAY_DEV_DNS_ADDR"]
	if addr == "" {
		s.t.Fatal("dev.env has no JETWAY_DEV_DNS_ADDR: the dev DNS server is not running")
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeAAAA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		s.t.Fatalf("dig @%s %s AAAA: %v", addr, name, err)
	}
	out := []string{dns.RcodeToString[r.Rcode]}
	for _, rr := range r.Answer {
		if aaaa, ok := rr.(*dns.AAAA); ok {
			a, _ := netip.AddrFromSlice(aaaa.AAAA)
			out = append(out, a.String())
		}
	}
	return strings.Join(out, " ")
}

// waitDevAAAA waits until the dev DNS server answers want for name.
func (s *stack) waitDevAAAA(name, want string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := s.devAAAA(name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("dev DNS answers %s AAAA with %q, want %q", name, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// canonicalIP writes an address as devAAAA reports it.
func canonicalIP(t *testing.T, addr string) string {
	t.Helper()
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		t.Fatalf("not an address: %q", addr)
	}
	return a.String()
}
