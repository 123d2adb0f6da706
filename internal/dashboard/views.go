package dashboard

import (
	"net/url"
	"sort"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// page is one rendered page: which template, its title, the signed-in
// user for the header (nil shows none) and the template's data.
type page struct {
	Template string
	Title    string
	User     *userView
	Data     any
}

type userView struct {
	Name, Email string
	Role        string // in the organization on screen, "" elsewhere
	CSRF        string
	LogoutURL   string
}

type messageView struct {
	Heading, Text  string
	Link, LinkText string
}

type organizationView struct {
	OrgID      string
	UsageURL   string
	Extensions []extensionRow
}

type extensionRow struct {
	Name, URL, Status, Plan, PrimaryRegion, AppName string
}

type extensionView struct {
	ID, Name, Status, ErrorMessage string
	OrgID, OrgURL                  string
	Plan, PrimaryRegion, AppName   string
	ReadRegions                    []string
	DNSName, FlycastIP             string
	Conditions                     []conditionRow
	Regions                        []regionView
	Events                         []eventRow
	IsAdmin                        bool
	RevealURL, CSRF                string
	Revealed                       bool
	Connection                     []keyValue
	CreatedAt                      string
	Usage                          *todayView // nil when it could not be read
}

type conditionRow struct {
	Type, Status, Reason, Message, Since string
}

type regionView struct {
	Region   string
	Primary  bool
	Machines []jetwayv1.MachineStatus
}

type eventRow struct {
	Time, Type, Reason, Note string
}

type keyValue struct{ Key, Value string }

func errorPage(heading, text, link string) page {
	v := messageView{Heading: heading, Text: text}
	if link != "" {
		v.Link, v.LinkText = link, "Try again"
	}
	return page{Template: "message", Title: heading, Data: v}
}

func notFoundPage() page {
	return page{Template: "message", Title: "Not found", Data: messageView{Heading: "Not found",
		Text: "There is no such extension or organization here. It may have been deleted."}}
}

func notYourOrgPage(email string) page {
	text := "Your Fly.io account is not a member of the organization that owns this. Ask one of its admins to invite you on Fly.io, then sign in again."
	if email != "" {
		text = "You are signed in as " + email + ", which is not a member of the organization that owns this. Ask one of its admins to invite you on Fly.io, then sign in again."
	}
	return page{Template: "message", Title: "Not your organization", Data: messageView{Heading: "Not your organization", Text: text}}
}

func signInPage(ssoPath string) page {
	return page{Template: "message", Title: "Sign in", Data: messageView{Heading: "Sign in",
		Text: "Sign in with your Fly.io account to see this page.", Link: ssoPath, LinkText: "Sign in with Fly.io"}}
}

func expiredPage(ssoPath string) page {
	return page{Template: "message", Title: "Session expired", Data: messageView{Heading: "Your session has expired",
		Text: "For your security, sessions end after a while. Sign in again to continue.", Link: ssoPath, LinkText: "Sign in again with Fly.io"}}
}

func signedOutPage() page {
	return page{Template: "message", Title: "Signed out", Data: messageView{Heading: "Signed out",
		Text: "You have signed out. Open the dashboard from flyctl to sign in again."}}
}

func (h *Handler) userOf(s *Session, orgID string) *userView {
	return &userView{Name: s.Name, Email: s.Email, Role: s.RoleIn(orgID), CSRF: s.CSRF,
		LogoutURL: h.cfg.BasePath + "/dashboard/logout"}
}

func organizationPage(h *Handler, s *Session, orgID string, exts []jetwayv1.Extension) page {
	v := organizationView{OrgID: orgID, UsageURL: h.usagePath(orgID, "")}
	for i := range exts {
		res := h.cfg.Domain.ResourceOf(&exts[i])
		v.Extensions = append(v.Extensions, extensionRow{
			Name: res.Name, URL: h.pagePath(target{Kind: targetExtension, ID: res.ID}), Status: res.Status,
			Plan: res.Plan, PrimaryRegion: res.PrimaryRegion, AppName: res.FlyAppName,
		})
	}
	return page{Template: "organization", Title: "Extensions", User: h.userOf(s, orgID), Data: v}
}

func extensionPage(h *Handler, s *Session, ext *jetwayv1.Extension, events []eventsv1.Event, connection map[string]string, today *todayView) page {
	res := h.cfg.Domain.ResourceOf(ext)
	orgID := ext.Spec.Organization.ID
	v := extensionView{
		ID: res.ID, Name: res.Name, Status: res.Status, ErrorMessage: res.ErrorMessage,
		OrgID: orgID, OrgURL: h.pagePath(target{Kind: targetOrganization, ID: orgID}),
		Plan: res.Plan, PrimaryRegion: res.PrimaryRegion, ReadRegions: res.ReadRegions, AppName: res.FlyAppName,
		DNSName: orDefault(ext.Status.DNSName, h.cfg.Domain.DNSName(ext.Spec.Name)), FlycastIP: ext.Status.FlycastIP,
		IsAdmin: isAdmin(s, orgID), CSRF: s.CSRF, CreatedAt: res.CreatedAt,
		RevealURL: h.cfg.BasePath + "/dashboard/extensions/" + url.PathEscape(res.ID) + "/reveal",
		Revealed:  connection != nil,
		Usage:     today,
	}
	if v.Plan == "" {
		v.Plan = "default"
	}
	for _, c := range ext.Status.Conditions {
		v.Conditions = append(v.Conditions, conditionRow{Type: c.Type, Status: string(c.Status), Reason: c.Reason,
			Message: c.Message, Since: formatTime(c.LastTransitionTime)})
	}
	v.Regions = regionsOf(ext)
	for i := range events {
		e := &events[i]
		v.Events = append(v.Events, eventRow{Time: eventTime(e).UTC().Format(time.RFC3339), Type: e.Type, Reason: e.Reason, Note: e.Note})
	}
	keys := make([]string, 0, len(connection))
	for k := range connection {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v.Connection = append(v.Connection, keyValue{Key: k, Value: connection[k]})
	}
	return page{Template: "extension", Title: res.Name, User: h.userOf(s, orgID), Data: v}
}

// regionsOf groups the machines by region: the primary first, then the
// read regions in the order asked for. A region without machines yet is
// still listed, so a customer sees what is coming.
func regionsOf(ext *jetwayv1.Extension) []regionView {
	order := append([]string{ext.Spec.PrimaryRegion}, ext.Spec.ReadRegions...)
	byRegion := map[string]*regionView{}
	var out []*regionView
	add := func(region string) *regionView {
		if r, ok := byRegion[region]; ok {
			return r
		}
		r := &regionView{Region: region, Primary: region == ext.Spec.PrimaryRegion}
		byRegion[region] = r
		out = append(out, r)
		return r
	}
	for _, region := range order {
		add(region)
	}
	for _, m := range ext.Status.Machines {
		r := add(m.Region)
		r.Machines = append(r.Machines, m)
	}
	views := make([]regionView, len(out))
	for i, r := range out {
		views[i] = *r
	}
	return views
}

func formatTime(t metav1.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
