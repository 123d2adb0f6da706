package billing

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The billing API promises that a final day's JSON never changes, so the
// hand-written encoder must write exactly what encoding/json wrote before
// it, escaping included.
func TestStatementJSONIsEncodingJSONs(t *testing.T) {
	item := ItemEntry{ExtensionID: "04La2mblTaz", ExtensionName: "test", Meter: "machine", Size: "shared-cpu-1x",
		Region: "iad", QuantitySeconds: 86400, UnitPriceMicrosPerHour: 1900, AmountMicros: 45600}
	odd := item
	odd.ExtensionName, odd.ExtensionID = "<a & \"b\">\\ é\u2028\x01\xff", ""
	odd.QuantitySeconds, odd.AmountMicros = 0, -1
	volume := ItemEntry{ExtensionID: "04La2mblTaz", ExtensionName: "test", Meter: "volume", Size: "10GB",
		Region: "iad", QuantitySeconds: 86400, QuantityGBSeconds: 864000, UnitPriceMicrosPerHour: 200, AmountMicros: 48000}
	negative := volume
	negative.QuantityGBSeconds = -5
	for name, st := range map[string]Statement{
		"no days":   {OrganizationID: "org", Currency: "USD"},
		"empty":     {OrganizationID: "org", Currency: "USD", Days: []DayEntry{}},
		"nil items": {OrganizationID: "org", Currency: "USD", Days: []DayEntry{{Date: "2026-12-05"}}},
		"days": {OrganizationID: "org", Currency: "USD", Days: []DayEntry{
			{Date: "2026-12-05", Final: true, TotalMicros: 45600, Items: []ItemEntry{item, item}},
			{Date: "2026-12-06", TotalMicros: 11400, UnprovenSeconds: 7, Items: []ItemEntry{}},
		}},
		"volumes": {OrganizationID: "org", Currency: "USD", Days: []DayEntry{
			{Date: "2026-12-05", Final: true, TotalMicros: 93600, Items: []ItemEntry{item, volume, negative}},
		}},
		"escapes": {OrganizationID: "o\"rg<>&\u00e9\t", Currency: "", Days: []DayEntry{
			{Date: "2026-12-05", Items: []ItemEntry{odd}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := json.NewEncoder(&want).Encode(st); err != nil {
				t.Fatal(err)
			}
			if err := st.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("WriteJSON wrote\n%s\nencoding/json writes\n%s", got.String(), want.String())
			}
		})
	}
}

func FuzzStatementJSONIsEncodingJSONs(f *testing.F) {
	f.Add("04La2mblTaz", "my db", "shared-cpu-1x", int64(86400), false)
	f.Add("<&>", "\u2028\x00\xfe", "", int64(-3), true)
	f.Fuzz(func(t *testing.T, id, name, size string, n int64, final bool) {
		st := Statement{OrganizationID: id, Currency: size, Days: []DayEntry{{Date: name, Final: final, TotalMicros: n,
			UnprovenSeconds: n, Items: []ItemEntry{
				{ExtensionID: id, ExtensionName: name, Size: size, QuantitySeconds: n},
				{ExtensionID: id, Meter: "volume", Size: size, QuantitySeconds: n, QuantityGBSeconds: n / 3, AmountMicros: -n},
			}}}}
		var want, got bytes.Buffer
		if err := json.NewEncoder(&want).Encode(st); err != nil {
			t.Fatal(err)
		}
		if err := st.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("WriteJSON wrote %q, encoding/json %q", got.String(), want.String())
		}
	})
}
