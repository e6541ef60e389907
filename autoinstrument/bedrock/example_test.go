package bedrock_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	mlflowbedrock "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/bedrock"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleClientOption() {
	ctx := context.Background()
	// A fake Bedrock Runtime stands in for AWS here (the client signs with
	// the fake's credentials); traces go to an in-memory destination
	// instead of ./mlruns.
	fake := llmtest.NewServer()
	defer fake.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	client := bedrockruntime.New(bedrockruntime.Options{
		Region:       llmtest.AWSRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(llmtest.AWSAccessKeyID, llmtest.AWSSecretAccessKey, ""),
		BaseEndpoint: aws.String(fake.BedrockURL()),
	}, mlflowbedrock.ClientOption()) // the one line
	out, err := client.Converse(ctx, &bedrockruntime.ConverseInput{
		ModelId: aws.String("anthropic.claude-3-haiku-20240307-v1:0"),
		Messages: []types.Message{{Role: types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hello!"}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	fmt.Println(msg.Content[0].(*types.ContentBlockMemberText).Value)

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	s := dest.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.message.format"], s.Attributes["mlflow.llm.provider"])
	// Output:
	// You said: Hello!
	// BedrockRuntime.converse "CHAT_MODEL" "bedrock" "anthropic"
}
