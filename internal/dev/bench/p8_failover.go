package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jetway-dev/jetway/internal/dev/devstack"
	"github.com/jetway-dev/jetway/internal/dev/failover"
	"github.com/jetway-dev/jetway/internal/dev/loadgen"
	"github.com/jetway-dev/jetway/internal/election"
)

// p8Rate is the signed traffic sent to the gateways during P8, requests
// per second: enough that every handover happens under traffic, little
// enough that it is the handover, not the load, that is timed.
const p8Rate = 20

// measureFailover runs P8 and P8g on three manager processes with leader
// election at the manager's default lease timings. P8: the leader is
// SIGKILLed P8Kills times and a new change (a spec edit) made each time;
// the figure is the time from the kill until another process has
// reconciled it (status.observedGeneration caught up). Its floor is the
// lease duration: a killed leader cannot release its lease, so no standby
// may lead before the lease has run out since it last saw it renewed.
// P8g: the leader is stopped with SIGTERM, as in a rollout, and releases
// the lease; its floor is one retry period, how often a standby looks. The
// killed or stopped process is started again before the next round, as
// its pod would be. Signed traffic goes to every gateway throughout; a
// 5xx answer, or a request no gateway answered, fails P8.
func measureFailover(ctx context.Context, cfg Config) (Result, Result) {
	lease, retry := election.DefaultLeaseDuration, election.DefaultRetryPeriod
	r := Result{ID: "P8", Figure: "leader SIGKILLed to a new change reconciled by another, p99", Unit: "ms",
		Floor: ms(lease), Goal: "≤ 10 s, 0 5xx"}
	g := Result{ID: "P8g", Figure: "leader SIGTERMed to a new change reconciled by another", Unit: "ms",
		Floor: ms(retry), Goal: "≤ 2 s"}
	fail := func(err error) (Result, Result) {
		r.Err, g.Err = err.Error(), err.Error()
		return r, g
	}
	s, err := startStack(ctx, cfg, "p8", stackOptions{managers: 3})
	if err != nil {
		return fail(err)
	}
	defer s.close()
	exts, err := provisionAndWatch(ctx, s, "p8", "", 1, 0, 2*time.Minute, cfg.Progress)
	if err != nil {
		return fail(err)
	}
	key, err := failover.FindExtension(ctx, s.k8s, exts[0].id)
	if err != nil {
		return fail(err)
	}
	c := &failover.Cluster{K8s: s.k8s, Managers: s.managers, Extension: key, Progress: cfg.Progress}
	traffic := &failover.Traffic{Managers: s.managers, Secret: s.fly.Secret, Rate: p8Rate, Prefix: "p8-traffic"}
	traffic.Start(ctx)

	kills := cfg.scaled(cfg.P8Kills, 2)
	var took []time.Duration
	for k := range kills {
		fmt.Fprintf(cfg.Progress, "bench: P8: kill %d/%d\n", k+1, kills)
		h, err := c.Handover(ctx, failover.Kill, k, 2*time.Minute)
		if err != nil {
			traffic.Stop()
			return fail(err)
		}
		took = append(took, h.Took)
	}
	fmt.Fprintf(cfg.Progress, "bench: P8g: graceful stop\n")
	h, err := c.Handover(ctx, failover.Terminate, kills, 2*time.Minute)
	rep := traffic.Stop()
	renewals := loadedRenewals(ctx, cfg, s)
	if err != nil {
		r.Err = err.Error()
		g.Err = err.Error()
	} else {
		g.Value = ms(h.Took)
		g.Ratio = ratio(g.Value, g.Floor)
		g.Met = h.Took <= 2*time.Second
		g.Detail = fmt.Sprintf("SIGTERM to exit %.0f ms (the gateway drains, then the controllers, then the lease is released), then the change reconciled by manager %d; floor = one retry period, %s",
			ms(h.Exited), h.To, retry)
	}
	r.Value = percentile(took, 99)
	r.Ratio = ratio(r.Value, r.Floor)
	r.Met = r.Value <= 10_000 && rep.ServerErrors == 0 && rep.Unanswered == 0
	r.Detail = fmt.Sprintf("p50 %.0f ms, max %.0f ms over %d SIGKILLs of the leader of 3 managers; floor = the lease duration, %s (renew deadline %s, retry %s); "+
		"traffic %d req/s to every gateway: %d answered, %d 5xx, %d unanswered, %d attempts resent after a refused or cut connection; %s",
		percentile(took, 50), ms(slices.Max(took)), kills, lease, election.DefaultRenewDeadline, retry,
		p8Rate, rep.Answered, rep.ServerErrors, rep.Unanswered, rep.Retried, renewals)
	if len(rep.Samples) > 0 {
		r.Detail += fmt.Sprintf("; e.g. %q", rep.Samples[0])
	}
	return r, g
}

// loadedRenewals times the leader's lease renewals while P1's load (signed
// mixed traffic at P1Rate) goes to its gateway and its controllers
// provision what that traffic creates: the margin a renew deadline has
// over ordinary renewals on a busy replica.
func loadedRenewals(ctx context.Context, cfg Config, s *stack) string {
	leader, err := devstack.WaitLeader(ctx, s.managers, time.Minute)
	if err != nil {
		return "renewals not timed: " + err.Error()
	}
	fmt.Fprintf(cfg.Progress, "bench: P8: lease renewals under %d req/s to the leader's gateway\n", cfg.P1Rate)
	gaps := watchRenewals(ctx, s)
	rep, err := loadgen.Run(ctx, loadgen.Config{
		GatewayURL: s.managers[leader].GatewayURL(), Secret: s.fly.Secret, Rate: cfg.P1Rate,
		Duration: cfg.scaledDuration(20*time.Second, 2*time.Second), Seed: 8,
	})
	seen := gaps()
	if rep == nil {
		return "renewals not timed: " + err.Error()
	}
	return fmt.Sprintf("under %.0f req/s to the leader's gateway, the %s", rep.AchievedRate, seen)
}
