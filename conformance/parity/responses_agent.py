"""The ResponsesAgent parity workflow written with MLflow's own Python SDK:
a mlflow.pyfunc.ResponsesAgent answering one fixed conversation with a chat
model span, a tool span and a second chat model span, once through predict
and once through predict_stream.

Run: python responses_agent.py (MLFLOW_TRACKING_URI set by the caller).
Prints one JSON line {"predict": "tr-...", "predict_stream": "tr-..."}.

conformance/cmd/responsesagent (mode "parity") does the same with package
responsesagent; test_responses_agent.py compares the traces field by field.
"""

import json

import mlflow
from mlflow.entities import SpanType
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentResponse, ResponsesAgentStreamEvent

REQUEST = {
    "input": [{"role": "user", "content": "What is the weather in Paris?"}],
    "context": {"conversation_id": "conv-parity", "user_id": "user-parity"},
    "custom_inputs": {"k": "v"},
    "temperature": 0.5,
}
MODEL = "fake-gpt"
ANSWER = "It is 18C and sunny in Paris."


def chat_model(name, messages, content, tool_calls=None):
    with mlflow.start_span(name=name, span_type=SpanType.CHAT_MODEL) as span:
        span.set_inputs({"messages": messages, "model": MODEL})
        span.set_attributes(
            {
                "mlflow.message.format": "openai",
                "mlflow.llm.model": MODEL,
                "mlflow.chat.tokenUsage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            }
        )
        message = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        out = {"choices": [{"index": 0, "message": message}], "model": MODEL}
        span.set_outputs(out)
        return out


@mlflow.trace(name="get_weather", span_type=SpanType.TOOL)
def get_weather(city):
    return "18C, sunny"


def run(request):
    mlflow.update_current_trace(session_id=request.context.conversation_id, user=request.context.user_id)
    question = request.input[-1].content
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    chat_model("plan_model", [{"role": "user", "content": question}], "", [call])
    yield "call", ResponsesAgent.create_function_call_item("fc_1", "call_1", "get_weather", '{"city": "Paris"}')
    result = get_weather("Paris")
    yield "output", ResponsesAgent.create_function_call_output_item("call_1", result)
    chat_model(
        "answer_model",
        [{"role": "user", "content": question}, {"role": "tool", "tool_call_id": "call_1", "content": result}],
        ANSWER,
    )
    yield "text", ResponsesAgent.create_text_output_item(ANSWER, "msg_1")


class ParityAgent(ResponsesAgent):
    def predict(self, request):
        items = [item for _, item in run(request)]
        return ResponsesAgentResponse(output=items, custom_outputs=request.custom_inputs)

    def predict_stream(self, request):
        for kind, item in run(request):
            if kind == "text":
                for delta in ("It is 18C ", "and sunny in Paris."):
                    yield ResponsesAgentStreamEvent(**self.create_text_delta(delta=delta, item_id="msg_1"))
            yield ResponsesAgentStreamEvent(type="response.output_item.done", item=item)


def main():
    agent = ParityAgent()
    agent.predict(REQUEST)
    predict_id = mlflow.get_last_active_trace_id()
    for _ in agent.predict_stream(REQUEST):
        pass
    stream_id = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging() if hasattr(mlflow, "flush_trace_async_logging") else None
    print(json.dumps({"predict": predict_id, "predict_stream": stream_id}))


if __name__ == "__main__":
    main()
