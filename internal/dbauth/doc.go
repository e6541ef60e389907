// Package dbauth finds the Databricks workspace a program writes to and the
// credentials it authenticates with, the way Databricks' SDKs do
// (databricks-sdk 0.16x for Python, databricks-sdk-go's default chain), with
// no network I/O at resolution time: tokens are fetched on first use, from
// the exporter's background workers.
//
// Configuration is read from, in this order (a later source fills only what
// the earlier ones left unset):
//
//  1. explicit options (Options.Host, Options.Credentials);
//  2. environment: DATABRICKS_HOST, DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID,
//     DATABRICKS_CLIENT_SECRET, DATABRICKS_USERNAME, DATABRICKS_PASSWORD;
//  3. a profile of the INI file DATABRICKS_CONFIG_FILE (default
//     ~/.databrickscfg), keys host, token, client_id, client_secret,
//     username, password. The profile is Options.Profile (from a
//     databricks://<profile> tracking URI), else DATABRICKS_CONFIG_PROFILE,
//     else the default_profile of the file's [__settings__] section (written
//     by the Databricks CLI; databricks-sdk-py, which MLflow uses, reads it),
//     else DEFAULT; as in the SDKs the file is not read at all when no
//     profile is named and the environment already sets a host or
//     credentials, and a named profile that does not exist is an error.
//
// The credentials provider is the first that applies, in the SDKs' order:
//
//   - custom: Options.Credentials, a function that authorises an
//     *http.Request (e.g. databricks-sdk-go's Config.Authenticate);
//   - pat: host + token, "Authorization: Bearer <token>";
//   - basic: host + username + password;
//   - oauth-m2m: host + client_id + client_secret. The token endpoint is
//     discovered as the SDKs do (GET <host>/.well-known/databricks-config →
//     oidc_endpoint, then <oidc_endpoint>/.well-known/oauth-authorization-server
//     → token_endpoint; the host metadata is a best-effort probe asked once,
//     and any failure of it falls back to <host>/oidc/.well-known/...;
//     <host>/oidc/v1/token when the workspace serves no discovery
//     document), the token is requested with
//     golang.org/x/oauth2/clientcredentials (client credentials in the Basic
//     header, scope all-apis), cached and refreshed when less than a minute
//     of its life is left (when that refresh fails, the token is used until
//     it expires and the refresh tried again every 10 s); concurrent callers
//     share one refresh;
//   - model-serving: IS_IN_DB_MODEL_SERVING_ENV (or, when it is unset,
//     IS_IN_DATABRICKS_MODEL_SERVING_ENV) is "true" and the token file
//     exists: the configured host, else DATABRICKS_MODEL_SERVING_HOST_URL,
//     else DB_MODEL_SERVING_HOST_URL (as databricks-sdk), token from the
//     JSON file $SERVING_CREDENTIALS_DIR/model-dependencies-oauth-token
//     (default /var/credentials-secret/model-dependencies-oauth-token;
//     Options.ServingTokenFile overrides it), re-read every 5 minutes because
//     it rotates, as databricks-sdk does.
//
// More than one of pat, basic and oauth-m2m configured is an error unless
// DATABRICKS_AUTH_TYPE (or auth_type of the profile) names the one to use,
// as in the SDKs; other auth types (azure-cli, databricks-cli, …) are not
// supported and named in the error.
//
// The oauth-m2m and model-serving credentials implement transport.Refresher:
// after a 401 the cached token is dropped and the call is sent once more with
// a fresh one. Custom credentials are Refreshers too: the call is sent once
// more and the caller's function asked again (it owns its cache). A pat or
// basic credential cannot be cured by asking again: its 401 is final.
//
// A missing or half-set configuration is an error naming the variables to
// set; setting both a token and OAuth client credentials is an error, as in
// the SDKs. Errors never contain a token, secret or password.
package dbauth
