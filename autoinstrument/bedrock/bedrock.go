package bedrock

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// The IDs of the middlewares in the SDK's stack.
const (
	callID     = "MLflowTraceCall"     // Initialize: the span of a call
	requestID  = "MLflowTraceRequest"  // Serialize: the request body as sent
	attemptID  = "MLflowTraceAttempt"  // Deserialize: each HTTP attempt
	spanPrefix = "BedrockRuntime."     // MLflow's span names
	serializer = "OperationSerializer" // the SDK's request serializer
)

// ClientOption returns the option of bedrockruntime.New and
// bedrockruntime.NewFromConfig that records every Converse, ConverseStream,
// InvokeModel and InvokeModelWithResponseStream call of the client as one
// MLflow span:
//
//	client := bedrockruntime.NewFromConfig(cfg, mlflowbedrock.ClientOption())
//
// It can also be given to a single call (client.Converse(ctx, in,
// mlflowbedrock.ClientOption())). Other operations pass through untraced;
// so do calls when tracing is off or the call's context holds an unsampled
// trace.
func ClientOption() func(*bedrockruntime.Options) {
	mw := Middleware()
	return func(o *bedrockruntime.Options) {
		o.APIOptions = append(o.APIOptions, mw)
	}
}

// Middleware returns the function that adds the instrumentation to an SDK
// middleware stack: the function ClientOption adds to a client's
// APIOptions. Appended to aws.Config's APIOptions it instruments every
// Bedrock Runtime client made from the config (calls of other services
// pass through). Adding it to a stack twice is harmless.
func Middleware() func(*middleware.Stack) error {
	in := &instrumentation{}
	return in.addTo
}

// instrumentation is what the calls of one ClientOption or Middleware share:
// the last tool definitions converted to MLflow's form (an agent sends the
// same ones with every call).
type instrumentation struct {
	tools llmspan.ToolsCache
}

func (in *instrumentation) addTo(stack *middleware.Stack) error {
	if _, ok := stack.Initialize.Get(callID); ok {
		return nil
	}
	// Outermost in Initialize: once per call, around the SDK's validation,
	// serialization and retry loop.
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc(callID, in.startCall), middleware.Before); err != nil {
		return fmt.Errorf("mlflowtrace bedrock: %w", err)
	}
	var err error
	if _, ok := stack.Serialize.Get(serializer); ok {
		err = stack.Serialize.Insert(middleware.SerializeMiddlewareFunc(requestID, recordRequest), serializer, middleware.After)
	} else {
		err = stack.Serialize.Add(middleware.SerializeMiddlewareFunc(requestID, recordRequest), middleware.After)
	}
	if err != nil {
		return fmt.Errorf("mlflowtrace bedrock: %w", err)
	}
	// Innermost in Deserialize: once per attempt, next to the transport,
	// before the SDK reads the response.
	if err := stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(attemptID, watchAttempt), middleware.After); err != nil {
		return fmt.Errorf("mlflowtrace bedrock: %w", err)
	}
	return nil
}

type callKey struct{}

// call is one traced operation.
type call struct {
	op  *llmspan.Operation
	rec *recorder
}

// startCall opens the span of a traced operation, runs it, and ends the
// span when it returns (a stream's when the stream ends).
func (i *instrumentation) startCall(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	out middleware.InitializeOutput, md middleware.Metadata, err error,
) {
	kind, modelID, ok := operationOf(in.Parameters)
	if !ok {
		return next.HandleInitialize(ctx, in)
	}
	spanCtx, span := tracing.StartSpan(ctx, spanPrefix+kind.name, tracing.WithSpanType(kind.spanType))
	if span == nil {
		return next.HandleInitialize(ctx, in)
	}
	rec := newRecorder(kind, span, modelID, in.Parameters, &i.tools)
	c := &call{rec: rec, op: llmspan.NewOperation(span, rec, rec.streamDecoder)}
	defer func() {
		if p := recover(); p != nil {
			c.op.Return(fmt.Errorf("panic: %v", p))
			panic(p)
		}
	}()
	out, md, err = next.HandleInitialize(middleware.WithStackValue(spanCtx, callKey{}, c), in)
	c.op.Return(err)
	return out, md, err
}

func callFrom(ctx context.Context) *call {
	c, _ := middleware.GetStackValue(ctx, callKey{}).(*call)
	return c
}

// recordRequest reads the serialized request body (Converse: the inputs
// and tools) and rewinds it for the SDK, as the SDK's own payload hashing
// does.
func recordRequest(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	if c := callFrom(ctx); c != nil && c.rec.kind.readsBody {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			c.rec.request(requestBody(req))
		}
	}
	return next.HandleSerialize(ctx, in)
}

// requestBody reads a seekable request body of up to llmspan.MaxBody bytes
// and rewinds it; nil when it cannot (or the body is longer).
func requestBody(req *smithyhttp.Request) []byte {
	stream := req.GetStream()
	if stream == nil || !req.IsStreamSeekable() {
		return nil
	}
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(stream, llmspan.MaxBody+1))
	if rerr := req.RewindStream(); rerr != nil || err != nil || buf.Len() > llmspan.MaxBody {
		return nil
	}
	return buf.Bytes()
}

// watchAttempt runs one HTTP attempt through the call's Operation, which
// watches the response body the SDK then reads.
func watchAttempt(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	out middleware.DeserializeOutput, md middleware.Metadata, err error,
) {
	c := callFrom(ctx)
	req, ok := in.Request.(*smithyhttp.Request)
	if c == nil || !ok {
		return next.HandleDeserialize(ctx, in)
	}
	_, _ = c.op.Send(req.Request, func(*http.Request) (*http.Response, error) {
		out, md, err = next.HandleDeserialize(ctx, in)
		if res, ok := out.RawResponse.(*smithyhttp.Response); ok && res != nil {
			return res.Response, err
		}
		return nil, err
	})
	return out, md, err
}

// kind is one traced operation: MLflow's span name (the boto3 method's
// name) and type.
type kind struct {
	name      string
	operation string // the API's operation name, as botocore's errors give it
	spanType  tracing.SpanType
	converse  bool // Converse or ConverseStream
	stream    bool
	readsBody bool // inputs and tools come from the serialized body
}

var (
	converseKind       = kind{name: "converse", operation: "Converse", spanType: tracing.SpanTypeChatModel, converse: true, readsBody: true}
	converseStreamKind = kind{name: "converse_stream", operation: "ConverseStream", spanType: tracing.SpanTypeChatModel, converse: true, stream: true, readsBody: true}
	// MLflow types an InvokeModel span by its answer (LLM or EMBEDDING):
	// UNKNOWN until then.
	invokeKind       = kind{name: "invoke_model", operation: "InvokeModel", spanType: tracing.SpanTypeUnknown}
	invokeStreamKind = kind{name: "invoke_model_with_response_stream", operation: "InvokeModelWithResponseStream", spanType: tracing.SpanTypeLLM, stream: true}
)

// operationOf tells the traced operation from its input.
func operationOf(params any) (k kind, modelID string, ok bool) {
	switch in := params.(type) {
	case *bedrockruntime.ConverseInput:
		return converseKind, deref(in.ModelId), in != nil
	case *bedrockruntime.ConverseStreamInput:
		return converseStreamKind, deref(in.ModelId), in != nil
	case *bedrockruntime.InvokeModelInput:
		return invokeKind, deref(in.ModelId), in != nil
	case *bedrockruntime.InvokeModelWithResponseStreamInput:
		return invokeStreamKind, deref(in.ModelId), in != nil
	}
	return kind{}, "", false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// provider is MLflow's provider of a Bedrock model id: the part before the
// first ".", when there is one ("anthropic" for
// "anthropic.claude-3-haiku-20240307-v1:0"; "us" for the inference profile
// "us.anthropic.claude-…", as MLflow takes it).
func provider(modelID string) (string, bool) {
	p, _, ok := strings.Cut(modelID, ".")
	return p, ok
}
