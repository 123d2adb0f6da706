package chart

import (
	"strings"
	"testing"
)

// TestValuesSchemaRefusesBadValues renders the chart with values that
// values.schema.json must refuse, each with a message naming the field,
// and with good ones it must accept.
func TestValuesSchemaRefusesBadValues(t *testing.T) {
	helm := tool(t, "helm")
	for _, tc := range []struct {
		name  string
		set   []string
		field string
	}{
		{"externalURL with a path", []string{"gateway.externalURL=https://jetway.example.com/flyio"}, "/gateway/externalURL"},
		{"externalURL without a scheme", []string{"gateway.externalURL=jetway.example.com"}, "/gateway/externalURL"},
		{"zero replicas", []string{"replicaCount=0"}, "/replicaCount"},
		{"negative replicas", []string{"replicaCount=-2"}, "/replicaCount"},
		{"replicas not a number", []string{"replicaCount=three"}, "/replicaCount"},
		{"a duration without a unit", []string{"controllers.resync=300"}, "/controllers/resync"},
		{"a malformed duration", []string{"sso.sessionTTL=2 hours"}, "/sso/sessionTTL"},
		{"a zero poll interval", []string{"controllers.pollInterval=0"}, "/controllers/pollInterval"},
		{"zero concurrency", []string{"controllers.concurrency=0"}, "/controllers/concurrency"},
		{"leaderElection not a boolean", []string{"leaderElection=maybe"}, "/leaderElection"},
		{"an unknown top-level key", []string{"replicas=3"}, "replicas"},
		{"an unknown nested key", []string{"gateway.externalUrl=https://x.example.com"}, "externalUrl"},
		{"a webhook URL that is no URL", []string{"webhook.url=api.fly.io/hooks"}, "/webhook/url"},
		{"a Fly API URL that is no URL", []string{"fly.apiURL=machines"}, "/fly/apiURL"},
		{"an empty token Secret", []string{"fly.tokenSecret.name="}, "/fly/tokenSecret/name"},
		{"an image pull policy Kubernetes lacks", []string{"image.pullPolicy=Sometimes"}, "/image/pullPolicy"},
		{"a DNS zone with a scheme", []string{"dnsZone=https://ext.example.com"}, "/dnsZone"},
		{"a port out of range", []string{"gateway.service.port=70000"}, "/gateway/service/port"},
		{"a bad Prometheus interval", []string{"metrics.serviceMonitor.interval=30"}, "/metrics/serviceMonitor/interval"},
		{"a grace period shorter than the manager's drain", []string{"terminationGracePeriodSeconds=10"}, "/terminationGracePeriodSeconds"},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		_, err := runErr(helm, helmArgs("template", args...)...)
		if err == nil {
			t.Errorf("%s (%v) rendered; the schema should refuse it", tc.name, tc.set)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: the error does not name %s:\n%v", tc.name, tc.field, err)
		}
	}

	for _, good := range [][]string{
		nil,
		{"gateway.externalURL=http://127.0.0.1:8080", "replicaCount=1", "leaderElection=false"},
		{"controllers.resync=1h30m", "controllers.fullCheck=0", "controllers.machineWedgedAfter=0", "sso.sessionTTL=90m"},
		{"sso.clientID=c", "webhook.url=https://api.fly.io/api/hooks/extensions/acme", "dnsZone=ext.acme.example"},
		{"replicaCount=3", "podDisruptionBudget.minAvailable=50%", "metrics.enabled=false"},
	} {
		args := []string{"--strict"}
		for _, s := range good {
			args = append(args, "--set", s)
		}
		run(t, helm, helmArgs("lint", args...)...)
		run(t, helm, helmArgs("template", args[1:]...)...)
	}
}
