package databricks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Credential types of MLflow's ArtifactCredentialType.
const (
	credAWS   = "AWS_PRESIGNED_URL"
	credGCP   = "GCP_SIGNED_URL"
	credAzure = "AZURE_SAS_URI"
	credADLS  = "AZURE_ADLS_GEN2_SAS_URI"
)

// chunkSize is MLflow's MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE default (10 MiB):
// Azure blobs up to it go in one Put Blob, larger ones in blocks of it; ADLS
// files are appended in chunks of it.
const chunkSize = 10 << 20

// credential is ArtifactCredentialInfo.
type credential struct {
	SignedURI string `json:"signed_uri"`
	Type      string `json:"type"`
	Headers   []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
}

// uploadSigned uploads traces.json through signed-URL credentials. A URL the
// store rejects as expired or not authorised is replaced by fresh
// credentials once.
func (d *Destination) uploadSigned(ctx context.Context, traceID string, data []byte) error {
	for attempt := 0; ; attempt++ {
		cred, err := d.uploadCredentials(ctx, traceID)
		if err != nil {
			return err
		}
		err = d.putSigned(ctx, cred, data)
		if err == nil {
			return nil
		}
		if attempt == 0 && signedURLRejected(err) && ctx.Err() == nil {
			continue
		}
		return fmt.Errorf("upload trace data (%s): %w", cred.Type, err)
	}
}

// signedURLRejected reports a store's answer to an expired or revoked signed
// URL: 401/403 (S3, Azure), or GCS's 400 ExpiredToken.
func signedURLRejected(err error) bool {
	switch transport.StatusCode(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusBadRequest:
		var te *transport.Error
		return errors.As(err, &te) && strings.Contains(te.Message, "ExpiredToken")
	}
	return false
}

func (d *Destination) uploadCredentials(ctx context.Context, traceID string) (*credential, error) {
	resp, err := d.client.Do(ctx, &transport.Request{
		Method: http.MethodGet,
		Path:   pathTracesV2 + url.PathEscape(traceID) + suffixUploadCreds,
	})
	if err != nil {
		return nil, d.explain(fmt.Errorf("get upload credentials: %w", err), "the trace's experiment")
	}
	var out struct {
		CredentialInfo *credential `json:"credential_info"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.CredentialInfo == nil || out.CredentialInfo.SignedURI == "" {
		return nil, errors.New("get upload credentials: malformed response")
	}
	u, err := url.Parse(out.CredentialInfo.SignedURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("get upload credentials: the signed URI is not an http(s) URL")
	}
	return out.CredentialInfo, nil
}

// headers returns the credential's headers that allow admits (all when nil).
func (c *credential) headers(allow func(string) bool) http.Header {
	h := http.Header{}
	for _, kv := range c.Headers {
		if allow == nil || allow(kv.Name) {
			h[http.CanonicalHeaderKey(kv.Name)] = []string{kv.Value}
		}
	}
	return h
}

func (d *Destination) putSigned(ctx context.Context, c *credential, data []byte) error {
	switch c.Type {
	case credAWS, credGCP:
		_, err := d.client.Do(ctx, &transport.Request{Method: http.MethodPut, URL: c.SignedURI, Header: c.headers(nil), Body: data})
		return err
	case credAzure:
		return d.putAzureBlob(ctx, c, data)
	case credADLS:
		return d.putADLS(ctx, c, data)
	}
	return d.once("cred:"+c.Type, fmt.Errorf("databricks: unsupported upload credential type %q", c.Type))
}

// withQuery appends parameters (name, value pairs, in MLflow's order) to a
// signed URL, keeping its own query byte for byte (the signature covers it).
func withQuery(signed string, kv ...string) string {
	var b strings.Builder
	b.WriteString(signed)
	sep := byte('?')
	if strings.Contains(signed, "?") {
		sep = '&'
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(sep)
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
		sep = '&'
	}
	return b.String()
}

// putAzureBlob writes a block blob: Put Blob for small data, Put Block +
// Put Block List (MLflow's way for every size) for large.
func (d *Destination) putAzureBlob(ctx context.Context, c *credential, data []byte) error {
	if len(data) <= chunkSize {
		h := c.headers(validPutBlobHeader)
		h.Set("x-ms-blob-type", "BlockBlob")
		_, err := d.client.Do(ctx, &transport.Request{Method: http.MethodPut, URL: c.SignedURI, Header: h, Body: data})
		return err
	}
	var ids []string
	for off := 0; off < len(data); off += chunkSize {
		id := blockID()
		h := c.headers(validPutBlockHeader)
		h.Set("x-ms-blob-type", "BlockBlob") // MLflow sends it on Put Block too
		_, err := d.client.Do(ctx, &transport.Request{
			Method: http.MethodPut,
			URL:    withQuery(c.SignedURI, "comp", "block", "blockid", id),
			Header: h,
			Body:   data[off:min(off+chunkSize, len(data))],
		})
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	var xml strings.Builder
	xml.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n")
	for _, id := range ids {
		xml.WriteString("<Uncommitted>" + id + "</Uncommitted>\n")
	}
	xml.WriteString("</BlockList>")
	_, err := d.client.Do(ctx, &transport.Request{
		Method: http.MethodPut,
		URL:    withQuery(c.SignedURI, "comp", "blocklist"),
		Header: c.headers(validPutBlockListHeader),
		Body:   []byte(xml.String()),
	})
	return err
}

// blockID is a base64 block id of fixed length (Azure wants all ids of a
// blob the same length), like MLflow's base64 of a uuid4 hex.
func blockID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(b[:])))
}

// putADLS writes an ADLS Gen2 file: create, append (with flush=true when it
// is the only append, as MLflow does), flush.
func (d *Destination) putADLS(ctx context.Context, c *credential, data []byte) error {
	_, err := d.client.Do(ctx, &transport.Request{
		Method: http.MethodPut,
		URL:    withQuery(c.SignedURI, "resource", "file"),
		Header: c.headers(validADLSPutHeader),
	})
	if err != nil {
		return err
	}
	single := len(data) <= chunkSize
	for off := 0; ; off += chunkSize {
		q := []string{"action", "append", "position", strconv.Itoa(off)}
		if single {
			q = append(q, "flush", "true")
		}
		_, err := d.client.Do(ctx, &transport.Request{
			Method: http.MethodPatch,
			URL:    withQuery(c.SignedURI, q...),
			Header: c.headers(validADLSPatchHeader),
			Body:   data[off:min(off+chunkSize, len(data))],
		})
		if err != nil {
			return err
		}
		if off+chunkSize >= len(data) {
			break
		}
	}
	if single {
		return nil
	}
	_, err = d.client.Do(ctx, &transport.Request{
		Method: http.MethodPatch,
		URL:    withQuery(c.SignedURI, "action", "flush", "position", strconv.Itoa(len(data))),
		Header: c.headers(validADLSPutHeader),
	})
	return err
}

// Header allow-lists per Azure operation, as MLflow's mlflow/azure/client.py
// applies them to the headers of the credential (the service rejects
// headers an operation does not take).
var (
	putBlockHeaders = headerSet("Authorization", "x-ms-date", "x-ms-version", "Content-Length", "Content-MD5",
		"x-ms-content-crc64", "x-ms-encryption-scope", "x-ms-lease-id", "x-ms-client-request-id",
		"x-ms-encryption-key", "x-ms-encryption-key-sha256", "x-ms-encryption-algorithm")
	putBlockListHeaders = headerSet("Authorization", "Date", "x-ms-date", "x-ms-version", "Content-Length",
		"Content-MD5", "x-ms-content-crc64", "x-ms-blob-cache-control", "x-ms-blob-content-type",
		"x-ms-blob-content-encoding", "x-ms-blob-content-language", "x-ms-blob-content-md5",
		"x-ms-encryption-scope", "x-ms-tags", "x-ms-lease-id", "x-ms-client-request-id",
		"x-ms-blob-content-disposition", "x-ms-access-tier", "If-Modified-Since", "If-Unmodified-Since",
		"If-Match", "If-None-Match")
	adlsPutHeaders = headerSet("Cache-Control", "Content-Encoding", "Content-Language", "Content-Disposition",
		"x-ms-cache-control", "x-ms-content-type", "x-ms-content-encoding", "x-ms-content-language",
		"x-ms-content-disposition", "x-ms-rename-source", "x-ms-lease-id", "x-ms-properties", "x-ms-permissions",
		"x-ms-umask", "x-ms-owner", "x-ms-group", "x-ms-acl", "x-ms-proposed-lease-id", "x-ms-expiry-option",
		"x-ms-expiry-time", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
		"x-ms-source-if-match", "x-ms-source-if-none-match", "x-ms-source-if-modified-since",
		"x-ms-source-if-unmodified-since", "x-ms-encryption-key", "x-ms-encryption-key-sha256",
		"x-ms-encryption-algorithm", "x-ms-encryption-context", "x-ms-client-request-id", "x-ms-date", "x-ms-version")
	adlsPatchHeaders = headerSet("Content-Length", "Content-MD5", "x-ms-lease-id", "x-ms-cache-control",
		"x-ms-content-type", "x-ms-content-disposition", "x-ms-content-encoding", "x-ms-content-language",
		"x-ms-content-md5", "x-ms-properties", "x-ms-owner", "x-ms-group", "x-ms-permissions", "x-ms-acl",
		"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "x-ms-encryption-key",
		"x-ms-encryption-key-sha256", "x-ms-encryption-algorithm", "x-ms-encryption-context",
		"x-ms-client-request-id", "x-ms-date", "x-ms-version")
)

// headerSet matches names exactly as MLflow's allow-lists do (they are
// compared case-sensitively there; the headers Databricks returns use these
// spellings).
func headerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func validPutBlockHeader(n string) bool { return putBlockHeaders[n] }
func validPutBlockListHeader(n string) bool {
	return strings.HasPrefix(n, "x-ms-meta-") || putBlockListHeaders[n]
}
func validADLSPutHeader(n string) bool   { return adlsPutHeaders[n] }
func validADLSPatchHeader(n string) bool { return adlsPatchHeaders[n] }

// validPutBlobHeader: Put Blob takes what Put Block and Put Block List take.
func validPutBlobHeader(n string) bool { return validPutBlockHeader(n) || validPutBlockListHeader(n) }
