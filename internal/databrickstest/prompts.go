package databrickstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Unity Catalog prompt registry's routes (MLflow 3.17.2's
// UnityCatalogPromptService, unity_catalog_prompt_service.proto).
const (
	pathUCPrompts     = "/api/2.0/mlflow/unity-catalog/prompts"
	pathUCPromptLinks = "/api/2.0/mlflow/unity-catalog/prompt-versions/"
)

// ucPrompt is a prompt of the Unity Catalog registry.
type ucPrompt struct {
	name, description string
	tags              []promptTag // in the order first set
	created, updated  time.Time
	aliases           map[string]int
	versions          []*ucPromptVersion // version i+1 at i
}

type ucPromptVersion struct {
	version               int
	template, description string
	tags                  []promptTag
	created               time.Time
}

type promptTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PromptLink is one link request the registry accepted: the prompt
// versions ("name/version") linked to traces, models or runs (Kind).
type PromptLink struct {
	Kind     string   // "traces", "models" or "runs"
	Versions []string // "catalog.schema.name/3"
	IDs      []string // trace, model or run ids
}

// setTag sets key in tags, in place when present.
func setTag(tags []promptTag, key, value string) []promptTag {
	for i := range tags {
		if tags[i].Key == key {
			tags[i].Value = value
			return tags
		}
	}
	return append(tags, promptTag{key, value})
}

// AddPromptVersion adds a version to the Unity Catalog prompt name
// (created when missing; its schema must exist: CreateUCSchema) as
// MLflow's register_prompt stores it — template (a string or a list of
// messages) kept as its JSON — and returns its number.
func (w *Workspace) AddPromptVersion(name string, template any, description string, tags map[string]string) (int, error) {
	b, err := json.Marshal(template)
	if err != nil {
		return 0, err
	}
	parts := strings.Split(name, ".")
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(parts) != 3 || !w.ucSchemas[parts[0]+"."+parts[1]] {
		return 0, fmt.Errorf("databrickstest: %q is not a prompt name in a registered schema", name)
	}
	now := time.Now()
	p := w.prompts[name]
	if p == nil {
		p = &ucPrompt{name: name, created: now, aliases: map[string]int{}}
		w.prompts[name] = p
	}
	v := &ucPromptVersion{version: len(p.versions) + 1, template: string(b), description: description, created: now}
	for _, k := range sortedKeys(tags) {
		v.tags = setTag(v.tags, k, tags[k])
	}
	p.versions = append(p.versions, v)
	p.updated = now
	return v.version, nil
}

// SetPromptAlias points alias of prompt name at version.
func (w *Workspace) SetPromptAlias(name, alias string, version int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.prompts[name]; p != nil {
		p.aliases[alias] = version
	}
}

// PromptTags returns the tags of the Unity Catalog prompt name (nil when
// there is no such prompt).
func (w *Workspace) PromptTags(name string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.prompts[name]
	if p == nil {
		return nil
	}
	m := map[string]string{}
	for _, t := range p.tags {
		m[t.Key] = t.Value
	}
	return m
}

// PromptLinks returns the link requests the prompt registry accepted, in
// order.
func (w *Workspace) PromptLinks() []PromptLink {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.promptLinks)
}

func tsJSON(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func aliasesJSON(p *ucPrompt, version int) []map[string]string {
	out := []map[string]string{}
	for _, a := range sortedKeys(p.aliases) {
		if version == 0 || p.aliases[a] == version {
			out = append(out, map[string]string{"alias": a, "version": strconv.Itoa(p.aliases[a])})
		}
	}
	return out
}

func promptJSON(p *ucPrompt) map[string]any {
	m := map[string]any{
		"name":                   p.name,
		"creation_timestamp":     tsJSON(p.created),
		"last_updated_timestamp": tsJSON(p.updated),
		"aliases":                aliasesJSON(p, 0),
		"tags":                   slices.Clone(p.tags),
	}
	if p.description != "" {
		m["description"] = p.description
	}
	return m
}

func promptVersionJSON(p *ucPrompt, v *ucPromptVersion) map[string]any {
	m := map[string]any{
		"name":                   p.name,
		"version":                strconv.Itoa(v.version),
		"creation_timestamp":     tsJSON(v.created),
		"last_updated_timestamp": tsJSON(v.created),
		"template":               v.template,
		"aliases":                aliasesJSON(p, v.version),
		"tags":                   slices.Clone(v.tags),
	}
	if v.description != "" {
		m["description"] = v.description
	}
	return m
}

// checkPromptName checks a prompt's three-level Unity Catalog name and that
// its schema exists (CreateUCSchema).
func (w *Workspace) checkPromptName(rw http.ResponseWriter, name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		w.reject("prompts: %q is not <catalog>.<schema>.<prompt>", name)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Prompt name '%s' is not a valid name: a prompt's name must be <catalog>.<schema>.<prompt>.", name))
		return false
	}
	w.mu.Lock()
	ok := w.ucSchemas[parts[0]+"."+parts[1]]
	w.mu.Unlock()
	if !ok {
		w.reject("prompts: schema %s.%s does not exist", parts[0], parts[1])
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Schema '%s.%s' does not exist.", parts[0], parts[1]))
		return false
	}
	return true
}

// checkQuery checks the query of a GET: MLflow's client sends the request
// message's fields as parameters; each must be a field of the message, and
// one the path holds must repeat the path's value.
func (w *Workspace) checkQuery(rw http.ResponseWriter, r *http.Request, msg string, path map[string]string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		for k, vs := range q {
			known := false
			for _, f := range protoMessages[msg] {
				known = known || f.name == k
			}
			switch {
			case !known:
				err = fmt.Errorf("%s has no field %q", msg, k)
			case len(vs) != 1:
				err = fmt.Errorf("parameter %q given %d times", k, len(vs))
			case path[k] != "" && vs[0] != path[k]:
				err = fmt.Errorf("parameter %s=%q differs from the path's %q", k, vs[0], path[k])
			}
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		w.reject("%s %s: %v", r.Method, r.URL.Path, err)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Invalid request: "+err.Error())
		return false
	}
	return true
}

func promptNotFound(rw http.ResponseWriter, name string) {
	apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Prompt '%s' does not exist.", name))
}

// servePrompts serves the routes under /api/2.0/mlflow/unity-catalog/prompts.
func (w *Workspace) servePrompts(rw http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, pathUCPrompts)
	if rest == "" {
		if w.method(rw, r, http.MethodPost) {
			w.serveCreatePrompt(rw, r)
		}
		return
	}
	seg := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	name := seg[0]
	route := r.Method + " " + strings.Join(append([]string{"{name}"}, seg[1:]...), "/")
	switch {
	case route == "GET {name}":
		if w.checkQuery(rw, r, "mlflow.unitycatalog.GetPromptRequest", map[string]string{"name": name}) {
			w.serveGetPrompt(rw, name)
		}
	case route == "POST {name}/versions":
		w.serveCreatePromptVersion(rw, r, name)
	case r.Method == http.MethodGet && len(seg) == 3 && seg[1] == "versions":
		if w.checkQuery(rw, r, "mlflow.unitycatalog.GetPromptVersionRequest", map[string]string{"name": name, "version": seg[2]}) {
			w.serveGetPromptVersion(rw, r, name, seg[2], "")
		}
	case r.Method == http.MethodGet && len(seg) == 4 && seg[1] == "versions" && seg[2] == "by-alias":
		if w.checkQuery(rw, r, "mlflow.unitycatalog.GetPromptVersionByAliasRequest", map[string]string{"name": name, "alias": seg[3]}) {
			w.serveGetPromptVersion(rw, r, name, "", seg[3])
		}
	case r.Method == http.MethodPost && len(seg) == 3 && seg[1] == "aliases":
		w.serveSetPromptAlias(rw, r, name, seg[2])
	case route == "POST {name}/tags":
		w.serveSetPromptTag(rw, r, name)
	default:
		w.reject("%s %s: not served by the fake prompt registry", r.Method, r.URL.Path)
		apiError(rw, http.StatusNotImplemented, "NOT_IMPLEMENTED", fmt.Sprintf("the fake workspace does not serve '%s %s'", r.Method, r.URL.Path))
	}
}

func (w *Workspace) serveCreatePrompt(rw http.ResponseWriter, r *http.Request) {
	body, ok := w.readJSON(rw, r, "mlflow.unitycatalog.CreatePromptRequest")
	if !ok {
		return
	}
	var in struct {
		Name   string `json:"name"`
		Prompt struct {
			Name        string      `json:"name"`
			Description string      `json:"description"`
			Tags        []promptTag `json:"tags"`
		} `json:"prompt"`
	}
	_ = json.Unmarshal(body, &in)
	name := in.Prompt.Name
	if in.Name != "" && name != "" && in.Name != name {
		w.reject("CreatePrompt: name %q and prompt.name %q differ", in.Name, name)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "name and prompt.name differ")
		return
	}
	if name == "" {
		name = in.Name
	}
	if !w.checkPromptName(rw, name) {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.prompts[name] != nil {
		apiError(rw, http.StatusConflict, "ALREADY_EXISTS", fmt.Sprintf("Prompt '%s' already exists.", name))
		return
	}
	p := &ucPrompt{name: name, description: in.Prompt.Description, created: now, updated: now, aliases: map[string]int{}}
	for _, t := range in.Prompt.Tags {
		p.tags = setTag(p.tags, t.Key, t.Value)
	}
	w.prompts[name] = p
	writeJSON(rw, promptJSON(p))
}

func (w *Workspace) serveGetPrompt(rw http.ResponseWriter, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.prompts[name]
	if p == nil {
		promptNotFound(rw, name)
		return
	}
	writeJSON(rw, promptJSON(p))
}

func (w *Workspace) serveCreatePromptVersion(rw http.ResponseWriter, r *http.Request, name string) {
	body, ok := w.readJSON(rw, r, "mlflow.unitycatalog.CreatePromptVersionRequest")
	if !ok {
		return
	}
	var in struct {
		Name          string `json:"name"`
		PromptVersion struct {
			Name        string      `json:"name"`
			Template    *string     `json:"template"`
			Description string      `json:"description"`
			Tags        []promptTag `json:"tags"`
		} `json:"prompt_version"`
	}
	_ = json.Unmarshal(body, &in)
	switch {
	case (in.Name != "" && in.Name != name) || (in.PromptVersion.Name != "" && in.PromptVersion.Name != name):
		w.reject("CreatePromptVersion: the body names %q/%q, the path %q", in.Name, in.PromptVersion.Name, name)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "name must be the path's prompt")
		return
	case in.PromptVersion.Template == nil:
		w.reject("CreatePromptVersion: no template")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "prompt_version.template must be set.")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.prompts[name]
	if p == nil {
		promptNotFound(rw, name)
		return
	}
	v := &ucPromptVersion{version: len(p.versions) + 1, template: *in.PromptVersion.Template, description: in.PromptVersion.Description, created: time.Now()}
	for _, t := range in.PromptVersion.Tags {
		v.tags = setTag(v.tags, t.Key, t.Value)
	}
	p.versions = append(p.versions, v)
	p.updated = v.created
	writeJSON(rw, promptVersionJSON(p, v))
}

// serveGetPromptVersion answers a version by number or by alias.
func (w *Workspace) serveGetPromptVersion(rw http.ResponseWriter, r *http.Request, name, version, alias string) {
	n := 0
	if alias == "" {
		var err error
		if n, err = strconv.Atoi(version); err != nil || strings.Trim(version, "0123456789") != "" {
			w.reject("GetPromptVersion: version %q is not a number", version)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Invalid prompt version '%s': a version is a positive integer.", version))
			return
		}
	}
	w.mu.Lock() // w.reject locks it too: not called below
	defer w.mu.Unlock()
	p := w.prompts[name]
	if p == nil {
		promptNotFound(rw, name)
		return
	}
	if alias != "" {
		var ok bool
		if n, ok = p.aliases[alias]; !ok {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Alias '%s' does not exist for prompt '%s'.", alias, name))
			return
		}
	}
	if n < 1 || n > len(p.versions) {
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Prompt '%s' version %d does not exist.", name, n))
		return
	}
	writeJSON(rw, promptVersionJSON(p, p.versions[n-1]))
}

func (w *Workspace) serveSetPromptAlias(rw http.ResponseWriter, r *http.Request, name, alias string) {
	body, ok := w.readJSON(rw, r, "mlflow.unitycatalog.SetPromptAliasRequest")
	if !ok {
		return
	}
	var in struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}
	_ = json.Unmarshal(body, &in)
	n, err := strconv.Atoi(in.Version)
	switch {
	case (in.Name != "" && in.Name != name) || (in.Alias != "" && in.Alias != alias):
		w.reject("SetPromptAlias: the body names %q@%q, the path %q@%q", in.Name, in.Alias, name, alias)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "name and alias must be the path's")
		return
	case err != nil || strings.Trim(in.Version, "0123456789") != "":
		w.reject("SetPromptAlias: version %q", in.Version)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Invalid prompt version '%s': a version is a positive integer.", in.Version))
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.prompts[name]
	switch {
	case p == nil:
		promptNotFound(rw, name)
	case n < 1 || n > len(p.versions):
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Prompt '%s' version %d does not exist.", name, n))
	default:
		p.aliases[alias] = n
		writeJSON(rw, map[string]any{})
	}
}

func (w *Workspace) serveSetPromptTag(rw http.ResponseWriter, r *http.Request, name string) {
	body, ok := w.readJSON(rw, r, "mlflow.unitycatalog.SetPromptTagRequest")
	if !ok {
		return
	}
	var in struct {
		Name  string  `json:"name"`
		Key   string  `json:"key"`
		Value *string `json:"value"`
	}
	_ = json.Unmarshal(body, &in)
	switch {
	case in.Name != "" && in.Name != name:
		w.reject("SetPromptTag: the body names %q, the path %q", in.Name, name)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "name must be the path's prompt")
		return
	case in.Key == "":
		w.reject("SetPromptTag: no key")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "key must be set.")
		return
	}
	value := ""
	if in.Value != nil {
		value = *in.Value
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.prompts[name]
	if p == nil {
		promptNotFound(rw, name)
		return
	}
	p.tags = setTag(p.tags, in.Key, value)
	p.updated = time.Now()
	writeJSON(rw, map[string]any{})
}

// linkRoutes are the link routes: their request message and the field of
// the ids linked to.
var linkRoutes = map[string][2]string{
	"links-to-traces": {"mlflow.unitycatalog.LinkPromptsToTracesRequest", "trace_ids"},
	"links-to-models": {"mlflow.unitycatalog.LinkPromptVersionsToModelsRequest", "model_ids"},
	"links-to-runs":   {"mlflow.unitycatalog.LinkPromptVersionsToRunsRequest", "run_ids"},
}

// servePromptLinks serves LinkPromptsToTraces, LinkPromptVersionsToModels
// and LinkPromptVersionsToRuns: every prompt version must exist, and so must
// every trace (models and runs are not modelled: any id is accepted).
func (w *Workspace) servePromptLinks(rw http.ResponseWriter, r *http.Request) {
	kind := strings.TrimPrefix(r.URL.Path, pathUCPromptLinks)
	route, ok := linkRoutes[kind]
	if !ok {
		w.reject("%s %s: no such endpoint", r.Method, r.URL.Path)
		apiError(rw, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
		return
	}
	if !w.method(rw, r, http.MethodPost) {
		return
	}
	body, ok := w.readJSON(rw, r, route[0])
	if !ok {
		return
	}
	var in struct {
		PromptVersions []struct {
			Name    *string `json:"name"`
			Version *string `json:"version"`
		} `json:"prompt_versions"`
	}
	_ = json.Unmarshal(body, &in)
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &raw)
	var ids []string
	_ = json.Unmarshal(raw[route[1]], &ids)
	link := PromptLink{Kind: strings.TrimPrefix(kind, "links-to-"), IDs: ids}
	if len(in.PromptVersions) == 0 || len(ids) == 0 {
		m := w.reject("%s: prompt_versions and %s must not be empty", kind, route[1])
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", m)
		return
	}
	for _, pv := range in.PromptVersions {
		if pv.Name == nil || pv.Version == nil { // (validate_required) = true
			m := w.reject("%s: a prompt version entry lacks its name or version", kind)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", m)
			return
		}
		link.Versions = append(link.Versions, *pv.Name+"/"+*pv.Version)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, pv := range in.PromptVersions {
		p := w.prompts[*pv.Name]
		n, err := strconv.Atoi(*pv.Version)
		if p == nil || err != nil || n < 1 || n > len(p.versions) {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Prompt '%s' version %s does not exist.", *pv.Name, *pv.Version))
			return
		}
	}
	if link.Kind == "traces" {
		for _, id := range ids {
			if w.traces[id] == nil {
				apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Trace '%s' does not exist.", id))
				return
			}
		}
	}
	w.promptLinks = append(w.promptLinks, link)
	writeJSON(rw, map[string]any{})
}
