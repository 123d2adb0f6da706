// Package devzone serves `make run`'s DNS zone on a loopback port from the
// DNSEndpoint objects Jetway writes, as external-dns would publish them to
// a real DNS server in production, so `dig @127.0.0.1 -p PORT NAME AAAA`
// answers on a laptop with nothing installed. It is harness only: the
// product hands DNS to external-dns (test/dns runs the real one against
// BIND); this answers only what a DNSEndpoint says, authoritatively, for
// one zone.
package devzone

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jetway-dev/jetway/internal/dns/externaldns"
)

// Zone answers for one DNS zone from the DNSEndpoints a reader lists.
type Zone struct {
	// Origin is the zone, fully qualified (with the trailing dot).
	Origin string
	// Endpoints lists the DNSEndpoints of every namespace; a cache-backed
	// reader keeps each query off the API server.
	Endpoints client.Reader
}

// NewZone checks origin and returns the zone.
func NewZone(origin string, endpoints client.Reader) (*Zone, error) {
	origin = strings.Trim(origin, ".")
	if origin == "" {
		return nil, fmt.Errorf("the DNS zone is empty")
	}
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("the DNS zone %q is not a domain name", origin)
	}
	return &Zone{Origin: dns.Fqdn(strings.ToLower(origin)), Endpoints: endpoints}, nil
}

// answer is what the zone holds for a name: the records of the asked
// type, and whether the name holds any record at all (NODATA vs NXDOMAIN).
type answer struct {
	records    []dns.RR
	nameExists bool
}

// lookup reads every DNSEndpoint's records for name (lower case, fully
// qualified) and type qtype.
func (z *Zone) lookup(ctx context.Context, name string, qtype uint16) (answer, []error, error) {
	var list externaldns.DNSEndpointList
	if err := z.Endpoints.List(ctx, &list); err != nil {
		return answer{}, nil, fmt.Errorf("list dnsendpoints: %w", err)
	}
	var a answer
	var bad []error
	for _, ep := range list.Items {
		for _, e := range ep.Spec.Endpoints {
			if e == nil || dns.Fqdn(strings.ToLower(e.DNSName)) != name {
				continue
			}
			a.nameExists = true
			rtype, ok := dns.StringToType[strings.ToUpper(e.RecordType)]
			if !ok || (rtype != qtype && qtype != dns.TypeANY) {
				continue
			}
			for _, target := range e.Targets {
				rr, err := recordFor(name, e.RecordTTL, e.RecordType, target)
				if err != nil {
					bad = append(bad, fmt.Errorf("dnsendpoint %s/%s: %w", ep.Namespace, ep.Name, err))
					continue
				}
				a.records = append(a.records, rr)
			}
		}
	}
	return a, bad, nil
}

// defaultTTL is external-dns's TTL for an endpoint that names none.
const defaultTTL = 300

// recordFor parses one target the way it would appear in a zone file.
func recordFor(name string, ttl int64, rtype, target string) (dns.RR, error) {
	if ttl <= 0 {
		ttl = defaultTTL
	}
	if strings.EqualFold(rtype, "TXT") && !strings.HasPrefix(target, `"`) {
		target = `"` + strings.ReplaceAll(target, `"`, `\"`) + `"`
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, strings.ToUpper(rtype), target))
	if err != nil {
		return nil, fmt.Errorf("%s %s %q is not a valid record: %w", name, rtype, target, err)
	}
	if rr == nil {
		return nil, fmt.Errorf("%s %s %q is empty", name, rtype, target)
	}
	return rr, nil
}

// soa is the zone's start of authority. Its serial is fixed: nothing
// transfers this zone, so no secondary needs to see it change.
func (z *Zone) soa() *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns:      "ns." + z.Origin,
		Mbox:    "hostmaster." + z.Origin,
		Serial:  1,
		Refresh: 60, Retry: 60, Expire: 600,
		// Negative answers are cached this long: short, so a name that
		// appears is seen quickly.
		Minttl: 5,
	}
}
