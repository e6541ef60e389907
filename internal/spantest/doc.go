// Package spantest runs tracing into memory for the tests and benchmarks of
// the integrations (package autoinstrument and its subpackages): Start
// initialises a tracing.Provider with an empty environment and an
// exportertest.Recorder as its destination, shut down when the test ends;
// the Fixture's methods flush it and return what was exported, and Attr and
// Value decode span attributes. StartLLM also starts llmtest's fake LLM
// APIs, for the LLM client integrations. StartDiscard initialises tracing
// for benchmarks, with a destination that drops every trace, and BenchCalls
// runs the bare-versus-traced comparison of an LLM client.
package spantest
