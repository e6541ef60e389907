// Package envmeta collects the environment metadata MLflow's Python SDK writes
// on every trace: the user, the source program and its type, and git
// information. Collect runs once at startup; nothing here runs on a hot path.
package envmeta
