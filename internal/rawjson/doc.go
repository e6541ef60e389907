// Package rawjson splits JSON text into its parts without decoding them: the
// members of an object (in document order) and the items of an array, as
// slices of the original text, and decodes single strings (AppendUnquoted:
// encoding/json's result, without its decoder's allocations); and it
// validates JSON text (Valid: encoding/json.Valid's rules, several times
// faster), which every recorded body and previewed span needs. The LLM
// integrations (internal/llmspan) read requests and answers with it, and the
// exporter's request and response previews (internal/assemble) find chat
// messages with it: both read a few members of large documents, which
// encoding/json would decode whole. Nothing here panics on any input.
package rawjson
