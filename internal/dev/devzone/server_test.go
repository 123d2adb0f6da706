package devzone

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/jetway-dev/jetway/internal/dns/externaldns"
)

func TestServerAnswersFromDNSEndpoints(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := externaldns.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	endpoints := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&externaldns.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: "db-dns", Namespace: "fly-acme"},
			Spec: externaldns.DNSEndpointSpec{Endpoints: []*externaldns.Endpoint{
				{DNSName: "db.ext.jetway.test", RecordType: "AAAA", Targets: []string{"fdaa:0:47fb:0:1::1d"}, RecordTTL: 60},
			}}},
		&externaldns.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: "note", Namespace: "other"},
			Spec: externaldns.DNSEndpointSpec{Endpoints: []*externaldns.Endpoint{
				{DNSName: "Note.EXT.jetway.test.", RecordType: "TXT", Targets: []string{"hello"}},
			}}},
	).Build()
	z, err := NewZone("ext.jetway.test", endpoints)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen("127.0.0.1:0", z, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })

	for _, tc := range []struct {
		name  string
		qtype uint16
		net   string
		want  string // rcode, then each answer
	}{
		{"db.ext.jetway.test", dns.TypeAAAA, "udp", "NOERROR db.ext.jetway.test.\t60\tIN\tAAAA\tfdaa:0:47fb:0:1::1d"},
		{"DB.ext.jetway.test", dns.TypeAAAA, "tcp", "NOERROR db.ext.jetway.test.\t60\tIN\tAAAA\tfdaa:0:47fb:0:1::1d"},
		{"note.ext.jetway.test", dns.TypeTXT, "udp", "NOERROR note.ext.jetway.test.\t300\tIN\tTXT\t\"hello\""},
		{"note.ext.jetway.test", dns.TypeAAAA, "udp", "NOERROR"}, // the name exists: NODATA
		{"gone.ext.jetway.test", dns.TypeAAAA, "udp", "NXDOMAIN"},
		{"example.com", dns.TypeAAAA, "udp", "REFUSED"},
		{"ext.jetway.test", dns.TypeSOA, "udp", "NOERROR ext.jetway.test.\t60\tIN\tSOA\tns.ext.jetway.test. hostmaster.ext.jetway.test. 1 60 60 600 5"},
	} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(tc.name), tc.qtype)
		c := &dns.Client{Net: tc.net, Timeout: 2 * time.Second}
		r, _, err := c.Exchange(m, s.Addr)
		if err != nil {
			t.Fatalf("%s %s over %s: %v", tc.name, dns.TypeToString[tc.qtype], tc.net, err)
		}
		got := dns.RcodeToString[r.Rcode]
		for _, rr := range r.Answer {
			got += " " + rr.String()
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %s over %s (-want +got):\n%s", tc.name, dns.TypeToString[tc.qtype], tc.net, diff)
		}
	}
}

func TestNewZoneRejectsBadOrigins(t *testing.T) {
	for _, origin := range []string{"", ".", "bad..zone"} {
		if _, err := NewZone(origin, nil); err == nil {
			t.Errorf("NewZone(%q) accepted it", origin)
		}
	}
}
