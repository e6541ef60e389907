// Package prompts loads prompt versions from MLflow's prompt registry,
// formats them, and links them to the trace that used them — MLflow
// 3.17.2's mlflow.genai.load_prompt and PromptVersion.format for Go.
//
//	pc, err := prompts.NewClient(ctx) // the tracking server tracing.Init writes to, or MLFLOW_REGISTRY_URI
//	defer pc.Shutdown(ctx)
//	p, err := pc.Load(ctx, "prompts:/qa@production")
//	text, err := p.Format(map[string]any{"question": q})
//
// # Why a package of its own, and its name
//
// Loading a prompt is request/response I/O a caller waits for, like reading
// traces (package traces), and unlike recording them (packages tracing and
// exporter, which never do I/O on the caller's path). The name says what it
// handles: MLflow prompts, as the registry, its URIs ("prompts:/qa/3") and
// Python's mlflow.genai.*_prompt functions name them; PromptVersion keeps
// MLflow's entity name. It shares the exporter's configuration and
// plumbing: NewClient takes exporter options and reads the same environment
// (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN and the other credentials,
// MLFLOW_HTTP_REQUEST_*, MLFLOW_EXPERIMENT_ID/NAME) through the SDK's one
// reader, requests go through the exporter's HTTP client (retries,
// timeouts, secrets never in errors), and what fails in the background goes
// to the SDK's error path (tracing.ReportError, or exporter.WithErrorHandler).
//
// # Loading
//
// Load takes what load_prompt takes: "prompts:/<name>/<version>",
// "prompts:/<name>@<alias>" ("@latest": the highest version), a bare name
// (its latest version), or a name with WithVersion. It asks a tracking
// server's registry (for another registry or a Databricks workspace see
// below) as MLflow's client does — GET
// /api/2.0/mlflow/registered-models/get (is the name a prompt?) and GET
// model-versions/get or, for an alias, registered-models/alias — sending the
// two requests at once. (For an alias, MLflow's client asks for the version
// it found a second time; the answer is the same, so that is not done.)
// The versions loaded are cached per Client, as MLflow's PromptCache keeps
// them (MLflow's is per process):
//
//	MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS    60   seconds a version loaded by alias or bare name stays cached (0: not cached); WithCacheTTL per load
//	MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS  inf  seconds a version loaded by number stays cached; WithCacheTTL per load
//	MLFLOW_PROMPT_CACHE_MAX_SIZE             128  versions a Client caches (MLflow declares the variable and leaves its cache unbounded)
//
// Two links are made in the background, by one goroutine of the Client
// (Shutdown waits for them, up to its ctx), as MLflow makes them in threads:
//
//   - a version the registry answered with is linked to the experiment, as
//     MLflow's _link_prompt_to_experiment does: the prompt's tag
//     _mlflow_experiment_ids (",0,7,") gets the experiment's id
//     (MLFLOW_EXPERIMENT_NAME, created when missing, MLFLOW_EXPERIMENT_ID,
//     else "0"), so search_prompts(filter_string="experiment_id = '7'") and
//     the experiment's prompts page find it;
//   - with an active LoggedModel (MLFLOW_ACTIVE_MODEL_ID,
//     exporter.WithActiveModelID) or WithModelID, every version loaded is
//     added to the model's tag mlflow.linkedPrompts (GET and PATCH
//     /api/2.0/mlflow/logged-models/<id>), as load_prompt(link_to_model=True)
//     does; MLflow's client loads the version a second time first, which is
//     not done here.
//
// MLflow asks again at every load; a Client makes each link once while the
// tag is in place (again after a failure).
//
// # The registry
//
// The registry is MLflow 3.17.2's get_registry_uri:
//
//	MLFLOW_REGISTRY_URI                      —    the registry prompts load from (the tracking URI's when unset); WithRegistryURI wins
//
// NewClient reads it once, with the other options: WithRegistryURI (the
// last one given; "" is the default) wins over MLFLOW_REGISTRY_URI (blank
// is unset), which wins over MLflow's default for the tracking URI
// (_get_default_registry_uri_for_tracking_uri: the tracking server itself,
// or "databricks-uc" with the profile of "databricks://<profile>"). It
// classifies the URI as MLflow's registry store registry does and accepts:
//
//   - http(s)://<host>[...]: that MLflow server's registry (MLflow's
//     RestStore), with the credentials a tracking server gets
//     (MLFLOW_TRACKING_TOKEN, ..., exporter.WithBearerToken, ...: MLflow's
//     get_default_host_creds reads the same variables for any URI);
//   - "databricks-uc" or "databricks-uc://<profile>": the Unity Catalog
//     prompt registry (below) of the workspace of that profile (the
//     default one: DATABRICKS_HOST, DATABRICKS_CONFIG_PROFILE, ...), with
//     any tracking URI, as MLflow allows.
//
// It refuses, with an error at NewClient: "databricks" and
// "databricks://<profile>", the workspace model registry (MLflow's
// load_prompt refuses it: "The 'load_prompt' API is not supported with the
// current registry. ..."); "uc" and "uc:..." (Unity Catalog OSS: MLflow
// refuses it or fails); a local path or file: URI and a sqlite:,
// postgresql:, mysql: or mssql: database (MLflow's FileStore and
// SqlAlchemyStore: this package reads a registry through a server's REST
// API); any other scheme (MLflow: "Model Registry features are not
// supported by the store with URI ..."); and a malformed URI (an http(s)
// URL that does not parse or has no host, "databricks-uc://" without a
// profile: MLflow's "no netloc" error, "databricks-uc://<scope>:<prefix>").
// A local ./mlruns tracking URI stays refused, with a registry or not.
//
// Where each request goes, as in MLflow, whose registry client is built
// from the registry URI and whose links use the tracking store:
//
//   - the prompt versions, and the experiment link (the prompt's tag
//     _mlflow_experiment_ids: GetPrompt and SetPromptTag are registry
//     calls): the registry;
//   - the experiment the link names: the tracking URI's
//     (MLFLOW_EXPERIMENT_NAME is looked up, and created, there; "0" by
//     default unless the tracking URI is Databricks — MLflow's default
//     experiment follows the tracking URI, not the registry);
//   - the LoggedModel's tag mlflow.linkedPrompts: the tracking URI's
//     (MLflow's link_prompt_version_to_model writes it with the tracking
//     store), then, for a Unity Catalog registry only,
//     LinkPromptVersionsToModels on the registry;
//   - the trace: its tag and span attribute as without a registry URI;
//     the exporter's links do not read MLFLOW_REGISTRY_URI (see
//     "Not supported").
//
// # Databricks: Unity Catalog's prompt registry
//
// With MLFLOW_TRACKING_URI "databricks" (or "databricks://<profile>") MLflow
// 3.17.2's registry URI defaults to "databricks-uc" (with the same
// profile), and NewClient loads from the workspace's Unity Catalog prompt
// registry, with the workspace's credentials, as MLflow's
// UcModelRegistryStore does; MLFLOW_REGISTRY_URI "databricks-uc[://<profile>]"
// selects that registry for any tracking URI (see above). Names are Unity Catalog's,
// "prompts:/<catalog>.<schema>.<prompt>/3" or "...@<alias>". Load sends
// GET /api/2.0/mlflow/unity-catalog/prompts/<name>/versions/<version> —
// the version as the URI spells it ("01" stays "01") — or
// .../versions/by-alias/<alias>, with the request's fields repeated as
// query parameters, as MLflow's client sends them. MLflow's client resolves
// no alias itself there: "@latest" (and so a bare name) and a numeric alias
// ("@1") are sent as aliases, and load only if the workspace resolves them.
// The version's tags starting with _mlflow are left out of Tags (MLflow's
// proto_to_mlflow_prompt), the template is read from its JSON, and
// CreationTime is the version's creation timestamp (the registry keeps no
// user id). Caching is as for a tracking server.
//
// Errors differ from a tracking server's because MLflow's do: its Unity
// Catalog store turns a RESOURCE_DOES_NOT_EXIST answer into None, so
// load_prompt returns None for a missing version or prompt (allow_missing
// or not) and fails with "AttributeError: 'NoneType' object has no
// attribute 'version'" for a missing alias (allow_missing does not help).
// Load returns an *Error matching ErrNotFound in both cases, with the
// workspace's code and message ("RESOURCE_DOES_NOT_EXIST: ..."). Other
// answers (PERMISSION_DENIED, ...) are MLflow's RestException text, as for
// a tracking server.
//
// The links MLflow makes there:
//
//   - the experiment: only when MLFLOW_EXPERIMENT_ID or
//     MLFLOW_EXPERIMENT_NAME is set (MLflow has no default experiment on
//     Databricks outside a notebook); the prompt's tag _mlflow_experiment_ids
//     through GetPrompt and SetPromptTag (GET .../prompts/<name>, POST
//     .../prompts/<name>/tags). MLflow checks the experiment id when it
//     loads (and load_prompt fails when it does not exist); this package
//     does not, and a link to a missing experiment is made as asked;
//   - the LoggedModel: its tag mlflow.linkedPrompts as for a tracking
//     server (the workspace's logged-models routes), then, when that
//     worked, LinkPromptVersionsToModels (POST
//     .../unity-catalog/prompt-versions/links-to-models), whose failure
//     MLflow ignores, as this package does;
//   - the trace: the Databricks exporter links each stored trace (in an
//     experiment, or in Unity Catalog tables: "trace:/<location>/<hex>") to
//     the versions its tag mlflow.linkedPrompts lists with
//     LinkPromptsToTraces (POST .../prompt-versions/links-to-traces, 25
//     versions a request), as MLflow's exporter does; MLflow ignores a
//     failure, the exporter reports it (once per error code) to its error
//     handler.
//
// # Formatting
//
// Format (text prompts), FormatMessages (chat prompts) and Partial follow
// PromptVersion.format: each {{ name }} of the names given is replaced by
// the value as Python's str() writes it (3, 2.5, True, None, ['a', 1],
// {'k': 'v'}); names the template does not use are ignored; a variable the
// template uses and vars lacks is a *MissingVariablesError, unless Partial.
// The names are filled one after the other in sorted order, where MLflow
// takes its keyword arguments' order (which a Go map does not have): a
// value holding "{{ other }}" gets other's value when other comes later. As
// in MLflow, a name is used as a regular expression ("a.b" also matches
// {{ aXb }}), and a chat prompt's variables are looked for in the JSON of
// its messages (a role's placeholders count; one whose braces enclose a tab
// does not).
//
// # Linking to traces
//
// A version loaded with a ctx that holds a span of an open trace is linked
// to it (tracing.LinkPromptVersion), as load_prompt does inside a span: the
// trace tag mlflow.linkedPrompts ([{"name": "qa", "version": "3"}, ...], in
// order, once each), the same attribute on the current span (a span of
// package tracing), and, when the trace is exported to a tracking server,
// MLflow's LinkPromptsToTrace (POST /api/2.0/mlflow/traces/link-prompts) once
// the trace is stored — the exporter's background work; a failure goes to
// its error handler and the trace is kept. MLflow's search_traces(
// filter_string="prompt = 'qa/3'") and the prompt's page in the UI read
// those links. A trace written to ./mlruns gets the tag and attributes only,
// as with MLflow (its FileStore cannot link); one written to a Databricks
// experiment is linked through Unity Catalog's registry (see above). In
// OTLP-only mode the span attribute is kept and the tag is not (see
// tracing.UpdateCurrentTrace).
//
// # Errors
//
// A prompt, version or alias that does not exist, or a name that is a
// registered model and not a prompt, is an *Error matching ErrNotFound
// (where load_prompt(allow_missing=True) returns None) with MLflow's code
// and message ("RESOURCE_DOES_NOT_EXIST: Prompt with name=qa not found",
// "INVALID_PARAMETER_VALUE: Prompt alias prod not found."); a malformed URI
// an *Error matching ErrInvalid, with MLflow's message. Errors never contain
// tokens or passwords.
//
// # Not supported
//
// Loading from a local ./mlruns or database registry, or with a local
// ./mlruns tracking URI (NewClient refuses them), a Databricks workspace's
// legacy (workspace) model registry, which MLflow refuses for prompts too,
// linking traces through a registry other than the tracking URI's default
// (MLflow's exporter links a trace through the registry MLFLOW_REGISTRY_URI
// names: Unity Catalog's LinkPromptsToTraces for "databricks-uc", the
// tracking store's LinkPromptsToTrace for an http(s) registry; the exporter
// links as for the tracking URI's default registry: the same request for
// an http(s) registry with a tracking server, not for "databricks-uc" with
// a tracking server nor for an http(s) registry with a Databricks tracking
// URI), MLflow's
// MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY store, Jinja2 templates ({% ... %}: Format
// refuses them; MLflow renders them with Jinja2), chat messages whose
// content is not text, linking the loaded version to the active run
// (MLflow's link_prompt_version_to_run: Go has no active run), and
// registering prompts or setting aliases.
package prompts
