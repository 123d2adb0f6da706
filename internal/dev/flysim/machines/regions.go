package machines

import (
	"net/http"
	"sort"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// regions is the fixed set of placement regions the simulator accepts.
// Fly also accepts meta-regions and prioritized lists ("lhr,eu", "any");
// the simulator does not, so callers must pick one concrete region.
var regions = map[string]string{
	"ams": "Amsterdam, Netherlands",
	"arn": "Stockholm, Sweden",
	"atl": "Atlanta, Georgia (US)",
	"bog": "Bogotá, Colombia",
	"bom": "Mumbai, India",
	"bos": "Boston, Massachusetts (US)",
	"cdg": "Paris, France",
	"den": "Denver, Colorado (US)",
	"dfw": "Dallas, Texas (US)",
	"ewr": "Secaucus, NJ (US)",
	"eze": "Ezeiza, Argentina",
	"fra": "Frankfurt, Germany",
	"gdl": "Guadalajara, Mexico",
	"gig": "Rio de Janeiro, Brazil",
	"gru": "Sao Paulo, Brazil",
	"hkg": "Hong Kong, Hong Kong",
	"iad": "Ashburn, Virginia (US)",
	"jnb": "Johannesburg, South Africa",
	"lax": "Los Angeles, California (US)",
	"lhr": "London, United Kingdom",
	"mad": "Madrid, Spain",
	"mia": "Miami, Florida (US)",
	"nrt": "Tokyo, Japan",
	"ord": "Chicago, Illinois (US)",
	"otp": "Bucharest, Romania",
	"phx": "Phoenix, Arizona (US)",
	"qro": "Querétaro, Mexico",
	"scl": "Santiago, Chile",
	"sea": "Seattle, Washington (US)",
	"sin": "Singapore, Singapore",
	"sjc": "San Jose, California (US)",
	"syd": "Sydney, Australia",
	"waw": "Warsaw, Poland",
	"yul": "Montreal, Canada",
	"yyz": "Toronto, Canada",
}

func validRegion(code string) bool {
	_, ok := regions[code]
	return ok
}

// getRegions serves GET /v1/platform/regions in the shape of flaps.RegionData.
func (s *Server) getRegions(*http.Request) respond.Reply {
	codes := make([]string, 0, len(regions))
	for c := range regions {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := struct {
		Regions []fly.Region `json:"Regions"`
		Nearest string       `json:"Nearest"`
	}{Nearest: "iad"}
	for _, c := range codes {
		out.Regions = append(out.Regions, fly.Region{Code: c, Name: regions[c], GatewayAvailable: true})
	}
	return respond.JSON(http.StatusOK, out)
}
