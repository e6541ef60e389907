package mlflowrest

import (
	"bytes"
	"strconv"
)

// Int64 is an int64 field of an MLflow REST answer in protobuf's JSON
// mapping: a JSON number or a decimal string ("1700000000123"); null or an
// empty string is 0. Anything else is an error, as protobuf's parser (and
// so MLflow's Python client) refuses it.
type Int64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := bytes.Trim(b, `"`)
	if len(s) == 0 || string(s) == "null" {
		return nil
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return err
	}
	*n = Int64(v)
	return nil
}
