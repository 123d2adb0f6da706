package domain

import (
	"regexp"
	"strings"
	"testing"
)

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestNamesAreValidStableAndDistinct(t *testing.T) {
	ids := []string{"test", "30bqn49y2jh", "04La2mblTaz", "04la2mbltaz", "432cb1c9-4d06-4a91-95dc-bc7aa27b896d",
		"UPPER_and.dots", "---", "ümläut", strings.Repeat("x", 200)}
	seen := map[string]string{}
	for _, id := range ids {
		for kind, name := range map[string]string{
			"org": OrganizationName(id), "ns": Namespace(id), "ext": ExtensionName(id), "app": AppName("jetway", id),
			"usage": UsageLedgerName(id),
		} {
			if len(name) > 63 || !dns1123Label.MatchString(name) {
				t.Errorf("%s name %q for id %q is not a DNS-1123 label", kind, name, id)
			}
			if name != map[string]func(string) string{"org": OrganizationName, "ns": Namespace, "ext": ExtensionName, "usage": UsageLedgerName,
				"app": func(s string) string { return AppName("jetway", s) }}[kind](id) {
				t.Errorf("%s name for %q is not stable", kind, id)
			}
			key := kind + "/" + name
			if other, ok := seen[key]; ok && other != id {
				t.Errorf("%s name %q shared by ids %q and %q", kind, name, other, id)
			}
			seen[key] = id
		}
	}
}

func TestDNSName(t *testing.T) {
	for in, want := range map[string]string{
		"collider-prod": "collider-prod.ext.example.com",
		"My DB_1":       "my-db-1.ext.example.com",
	} {
		if got := DNSName(in, "ext.example.com."); got != want {
			t.Errorf("DNSName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DNSLabel("!!!"); !dns1123Label.MatchString(got) {
		t.Errorf("DNSLabel(!!!) = %q, not a label", got)
	}
}
