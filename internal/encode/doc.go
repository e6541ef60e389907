// Package encode turns any Go value into the JSON MLflow stores in span
// attributes, the way MLflow's Python SDK does (json.dumps with a fallback for
// values JSON cannot represent), and cuts strings with MLflow's truncation
// rule. Nothing in this package panics or does I/O: it runs on the caller's
// path.
package encode
