package envmeta

import (
	"os"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// Collect returns the environment metadata of this process.
func Collect(getenv func(string) string) map[string]string {
	if getenv == nil {
		getenv = os.Getenv
	}
	m := map[string]string{keys.MetaSourceType: "LOCAL"}
	if u := getenv("USER"); u != "" {
		m[keys.MetaMLflowUser] = u
	}
	if len(os.Args) > 0 {
		m[keys.MetaSourceName] = os.Args[0]
	}
	return m
}
