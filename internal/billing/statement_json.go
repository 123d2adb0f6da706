package billing

import (
	"encoding/json"
	"io"
	"strconv"
)

// A month of a large organization is megabytes of items (1,000 extensions
// over 31 days: 34,000 items, 6.6 MB), and encoding/json's reflection
// spent most of a billing GET's time on them. These write the same bytes
// as encoding/json (HTML-safe escaping included, so that a final day's
// JSON does not depend on which of the two wrote it; statement_json_test.go
// holds them to it) by appending, and a day at a time, so that no answer
// is built whole in memory.

// WriteJSON writes st to w as json.NewEncoder(w).Encode(st) would, one day
// per write.
func (st Statement) WriteJSON(w io.Writer) error {
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"organization_id":`...)
	b = appendString(b, st.OrganizationID)
	b = append(b, `,"currency":`...)
	b = appendString(b, st.Currency)
	b = append(b, `,"days":`...)
	if st.Days == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, d := range st.Days {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.AppendJSON(b)
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	_, err := w.Write(b)
	return err
}

// AppendJSON appends d as json.Marshal(d) would.
func (d DayEntry) AppendJSON(b []byte) []byte {
	b = append(b, `{"date":`...)
	b = appendString(b, d.Date)
	b = append(b, `,"final":`...)
	b = strconv.AppendBool(b, d.Final)
	b = append(b, `,"total_micros":`...)
	b = strconv.AppendInt(b, d.TotalMicros, 10)
	if d.UnprovenSeconds != 0 {
		b = append(b, `,"unproven_seconds":`...)
		b = strconv.AppendInt(b, d.UnprovenSeconds, 10)
	}
	b = append(b, `,"items":`...)
	if d.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, it := range d.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.AppendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendJSON appends it as json.Marshal(it) would.
func (it ItemEntry) AppendJSON(b []byte) []byte {
	b = append(b, `{"extension_id":`...)
	b = appendString(b, it.ExtensionID)
	b = append(b, `,"extension_name":`...)
	b = appendString(b, it.ExtensionName)
	b = append(b, `,"meter":`...)
	b = appendString(b, it.Meter)
	b = append(b, `,"size":`...)
	b = appendString(b, it.Size)
	b = append(b, `,"region":`...)
	b = appendString(b, it.Region)
	b = append(b, `,"quantity_seconds":`...)
	b = strconv.AppendInt(b, it.QuantitySeconds, 10)
	if it.QuantityGBSeconds != 0 {
		b = append(b, `,"quantity_gb_seconds":`...)
		b = strconv.AppendInt(b, it.QuantityGBSeconds, 10)
	}
	b = append(b, `,"unit_price_micros_per_hour":`...)
	b = strconv.AppendInt(b, it.UnitPriceMicrosPerHour, 10)
	b = append(b, `,"amount_micros":`...)
	b = strconv.AppendInt(b, it.AmountMicros, 10)
	return append(b, '}')
}

// appendString appends s as a JSON string. Ids, names, sizes and regions
// are printable ASCII in practice, which is copied as it is; anything
// encoding/json would escape goes through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always marshals
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
