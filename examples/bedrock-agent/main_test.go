package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The agent runs offline against the fake Bedrock Runtime, configured only
// by the standard AWS variables, and writes one trace per question to
// ./mlruns.
func TestAgentAgainstFakeBedrock(t *testing.T) {
	for _, endpointVar := range []string{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"} {
		t.Run(endpointVar, func(t *testing.T) {
			fake := llmtest.Start(t)
			dir := t.TempDir()
			t.Chdir(dir)
			for k, v := range map[string]string{
				endpointVar:             fake.BedrockURL(),
				"AWS_ACCESS_KEY_ID":     llmtest.AWSAccessKeyID,
				"AWS_SECRET_ACCESS_KEY": llmtest.AWSSecretAccessKey,
				"AWS_REGION":            llmtest.AWSRegion,
				// Nothing from this machine's AWS setup.
				"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
				"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
				"AWS_PROFILE":                 "",
				"AWS_SESSION_TOKEN":           "",
				"AWS_EC2_METADATA_DISABLED":   "true",
			} {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			questions := []string{"What's the weather and the local time in Paris?", "What's the weather in Rome?"}
			if err := run(context.Background(), questions, &out, func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			ids := regexp.MustCompile(`(?m)^Trace (tr-[0-9a-f]{32})$`).FindAllStringSubmatch(out.String(), -1)
			if len(ids) != 2 || ids[0][1] == ids[1][1] {
				t.Fatalf("want two traces, output:\n%s", out.String())
			}
			if !strings.Contains(out.String(), `A: Here is what I found. get_weather: {"city":"Paris","forecast":"light rain","temperature_c":14}.`) {
				t.Errorf("answer:\n%s", out.String())
			}
			got := spantest.NamesAndTypes(spantest.ReadTraceData(t, filepath.Join(dir, "mlruns", "0", "traces", ids[0][1])))
			want := []string{`bedrock_agent "AGENT"`, `BedrockRuntime.converse "CHAT_MODEL"`, `get_weather "TOOL"`, `get_local_time "TOOL"`, `BedrockRuntime.converse "CHAT_MODEL"`}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("spans %v, want %v", got, want)
			}
			// Four signed requests reached the fake (it checks every
			// signature, and that each toolResult answers a toolUse).
			reqs := fake.Requests()
			if len(reqs) != 4 || !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+llmtest.AWSAccessKeyID) {
				t.Errorf("%d requests to the model", len(reqs))
			}
		})
	}
}
