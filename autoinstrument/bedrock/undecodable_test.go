package bedrock

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// TestSDKFailureOnSuccessfulAnswer: a 200 answer the SDK cannot deserialize
// fails the call; the span records the SDK's error instead of ending OK
// when the body was read. InvokeModel's body is the model's bytes, which
// the SDK does not parse: a body that is not JSON is no failure there.
func TestSDKFailureOnSuccessfulAnswer(t *testing.T) {
	tests := []struct {
		name, body string
		call       func(*bedrockruntime.Client) error
		wantErr    bool
	}{
		{"converse cut JSON", `{"output": {`, func(c *bedrockruntime.Client) error {
			_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("hi")})
			return err
		}, true},
		{"invoke model text", "plain text", func(c *bedrockruntime.Client) error {
			_, err := c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String(claude), Body: []byte(`{}`)})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			o := f.options()
			o.BaseEndpoint, o.HTTPClient = aws.String(srv.URL), srv.Client()
			err := tt.call(bedrockruntime.New(o, ClientOption()))
			if (err != nil) != tt.wantErr {
				t.Fatalf("SDK error %v, want one: %v", err, tt.wantErr)
			}
			s := f.One(t)
			ex := spantest.Events(s, "exception")
			if !tt.wantErr {
				if s.Status.Code != exporter.StatusCodeOK || len(ex) != 0 {
					t.Errorf("status %v, exceptions %v", s.Status, ex)
				}
				return
			}
			if s.Status.Code != exporter.StatusCodeError || len(ex) != 1 || !strings.Contains(s.Status.Message, "deserialization failed") {
				t.Fatalf("status %v, exceptions %v: want the SDK's error", s.Status, ex)
			}
		})
	}
}
