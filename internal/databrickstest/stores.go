package databrickstest

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signedURL is one upload URL handed out by credentials-for-data-upload.
type signedURL struct {
	url     string
	key     string // object path in the store, without the leading slash
	traceID string
	sig     string
	expires time.Time
	headers map[string]string // headers the upload must carry
	read    bool              // a download URL (credentials-for-data-download)
}

// objectStore is a fake cloud object store (S3, GCS, Azure Blob, ADLS Gen2):
// it accepts only requests signed by a URL the workspace issued, not expired,
// with the headers the credential listed and without an Authorization
// header, and speaks the cloud's upload protocol.
type objectStore struct {
	w     *Workspace
	cloud Cloud
	srv   *httptest.Server

	mu      sync.Mutex
	objects map[string][]byte
	blocks  map[string]map[string][]byte // Azure: staged blocks per blob
	adls    map[string]*adlsFile
}

type adlsFile struct {
	pending []byte // appended, not flushed
	flushed []byte
}

func newObjectStore(w *Workspace, c Cloud, tls bool) *objectStore {
	s := &objectStore{w: w, cloud: c, objects: map[string][]byte{}, blocks: map[string]map[string][]byte{}, adls: map[string]*adlsFile{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	return s
}

// Names of the containers in signed URLs, as a workspace's root storage
// would have them.
const (
	awsBucket      = "databricks-workspace-root"
	gcsBucket      = "databricks-1234567890123456"
	azContainer    = "root"
	adlsFileSystem = "unity-catalog-storage"
)

// issueRead hands out a signed download URL for key: GET only, with the
// headers a read needs on that cloud (none on S3 and GCS, whose SSE and
// metadata headers are upload-only; Azure's encryption scope is upload-only
// too; ADLS Gen2's customer-provided key is needed to read).
func (s *objectStore) issueRead(key, traceID string) *signedURL {
	su := s.issue(key, traceID)
	su.read = true
	if s.cloud != ADLS {
		su.headers = map[string]string{}
	}
	if s.cloud == Azure || s.cloud == ADLS {
		su.url = strings.Replace(strings.Replace(su.url, "&sp=cw&", "&sp=r&", 1), "&sp=racwdl&", "&sp=r&", 1)
	}
	return su
}

// issue hands out a signed URL for key.
func (s *objectStore) issue(key, traceID string) *signedURL {
	now := time.Now().UTC()
	ttl := s.w.cfg.SignedURLTTL
	su := &signedURL{key: key, traceID: traceID, expires: now.Add(ttl), headers: map[string]string{}}
	esc := escapeKey(key)
	switch s.cloud {
	case AWS:
		su.sig = randHex(32)
		su.headers["x-amz-server-side-encryption"] = "AES256"
		key = awsBucket + "/" + key
		su.url = fmt.Sprintf("%s/%s/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s&X-Amz-Expires=%d&X-Amz-SignedHeaders=%s&X-Amz-Signature=%s",
			s.srv.URL, awsBucket, esc, url.QueryEscape("ASIAFAKE/"+now.Format("20060102")+"/us-west-2/s3/aws4_request"),
			now.Format("20060102T150405Z"), int(ttl/time.Second), url.QueryEscape("host;x-amz-server-side-encryption"), su.sig)
	case GCP:
		su.sig = randHex(64)
		su.headers["x-goog-meta-workspace-id"] = s.w.WorkspaceID
		key = gcsBucket + "/" + key
		su.url = fmt.Sprintf("%s/%s/%s?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=%s&X-Goog-Date=%s&X-Goog-Expires=%d&X-Goog-SignedHeaders=%s&X-Goog-Signature=%s",
			s.srv.URL, gcsBucket, esc, url.QueryEscape("fake@databricks.iam.gserviceaccount.com/"+now.Format("20060102")+"/auto/storage/goog4_request"),
			now.Format("20060102T150405Z"), int(ttl/time.Second), url.QueryEscape("host;x-goog-meta-workspace-id"), su.sig)
	case Azure:
		su.sig = base64.StdEncoding.EncodeToString([]byte(randHex(16)))
		su.headers["x-ms-encryption-scope"] = "databricks-scope"
		key = azContainer + "/" + key
		su.url = fmt.Sprintf("%s/%s/%s?sv=2021-08-06&spr=https&se=%s&sr=b&sp=cw&sig=%s",
			s.srv.URL, azContainer, esc, url.QueryEscape(su.expires.Format(time.RFC3339)), url.QueryEscape(su.sig))
	case ADLS:
		su.sig = base64.StdEncoding.EncodeToString([]byte(randHex(16)))
		k := base64.StdEncoding.EncodeToString([]byte(randHex(16)))
		su.headers["x-ms-encryption-key"] = k
		su.headers["x-ms-encryption-key-sha256"] = base64.StdEncoding.EncodeToString([]byte(randHex(16)))
		su.headers["x-ms-encryption-algorithm"] = "AES256"
		key = adlsFileSystem + "/" + key
		su.url = fmt.Sprintf("%s/%s/%s?sv=2021-08-06&spr=https&se=%s&sr=c&sp=racwdl&sig=%s",
			s.srv.URL, adlsFileSystem, esc, url.QueryEscape(su.expires.Format(time.RFC3339)), url.QueryEscape(su.sig))
	}
	su.key = key
	s.w.mu.Lock()
	s.w.creds[su.sig] = su
	s.w.mu.Unlock()
	return su
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// ExpireSignedURLs makes every signed URL issued so far expired.
func (w *Workspace) ExpireSignedURLs() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, su := range w.creds {
		su.expires = time.Now().Add(-time.Second)
	}
}

// storeError writes a cloud-style XML error.
func (s *objectStore) storeError(w http.ResponseWriter, status int, code, msg string) {
	s.w.reject("%s store: %d %s: %s", s.cloud, status, code, msg)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *objectStore) serve(rw http.ResponseWriter, r *http.Request) {
	sr := &statusRecorder{ResponseWriter: rw}
	hdr := map[string]string{}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-") || lk == "content-type" || lk == "authorization" {
			hdr[lk] = r.Header.Get(k)
		}
	}
	defer func() {
		s.w.record(Request{Host: string(s.cloud), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: sr.status, Header: hdr})
	}()
	if f := s.w.fault(string(s.cloud), r); f != nil && applyFault(sr, r, f) {
		return
	}
	q := r.URL.Query()
	if r.Header.Get("Authorization") != "" {
		s.storeError(sr, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the signature in the URL is accepted, not an Authorization header")
		return
	}
	var sig string
	switch s.cloud {
	case AWS:
		sig = q.Get("X-Amz-Signature")
	case GCP:
		sig = q.Get("X-Goog-Signature")
	default:
		sig = q.Get("sig")
	}
	s.w.mu.Lock()
	su := s.w.creds[sig]
	var expired bool
	if su != nil {
		expired = time.Now().After(su.expires)
	}
	s.w.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case sig == "" || su == nil || su.key != key:
		code := "SignatureDoesNotMatch"
		if s.cloud == Azure || s.cloud == ADLS {
			code = "AuthenticationFailed"
		}
		s.storeError(sr, http.StatusForbidden, code, "The request signature does not match: the URL was not issued for this object")
		return
	case expired:
		switch s.cloud {
		case AWS:
			s.storeError(sr, http.StatusForbidden, "AccessDenied", "Request has expired")
		case GCP:
			s.storeError(sr, http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
		default:
			s.storeError(sr, http.StatusForbidden, "AuthenticationFailed", "Signed expiry time has to be after signed start time")
		}
		return
	}
	for k, v := range su.headers {
		if r.Header.Get(k) != v {
			s.storeError(sr, http.StatusForbidden, "SignatureDoesNotMatch", "missing or wrong signed header "+k)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		s.storeError(sr, http.StatusRequestEntityTooLarge, "EntityTooLarge", "body too large")
		return
	}
	if su.read || r.Method == http.MethodGet || r.Method == http.MethodHead {
		s.serveGet(sr, r, su)
		return
	}
	switch s.cloud {
	case AWS, GCP:
		s.servePut(sr, r, su, body)
	case Azure:
		s.serveBlob(sr, r, su, body)
	case ADLS:
		s.serveADLS(sr, r, su, body)
	}
}

func (s *objectStore) commit(su *signedURL, data []byte) {
	s.mu.Lock()
	s.objects[su.key] = append([]byte(nil), data...)
	s.mu.Unlock()
	s.w.storeData(su.traceID, string(s.cloud), su.key, data)
}

func (s *objectStore) servePut(w http.ResponseWriter, r *http.Request, su *signedURL, body []byte) {
	if r.Method != http.MethodPut {
		s.storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "the URL is signed for PUT, not "+r.Method)
		return
	}
	if len(r.URL.Query()["uploadId"]) > 0 || len(r.URL.Query()["partNumber"]) > 0 {
		s.storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "the URL is signed for a single PUT, not a multipart upload")
		return
	}
	s.commit(su, body)
	w.Header().Set("ETag", `"`+randHex(16)+`"`)
	w.WriteHeader(http.StatusOK)
}

// blockList is Azure's Put Block List body.
type blockList struct {
	XMLName xml.Name `xml:"BlockList"`
	Items   []struct {
		XMLName xml.Name
		ID      string `xml:",chardata"`
	} `xml:",any"`
}

func (s *objectStore) serveBlob(w http.ResponseWriter, r *http.Request, su *signedURL, body []byte) {
	q := r.URL.Query()
	if r.Method != http.MethodPut {
		s.storeError(w, http.StatusForbidden, "AuthorizationPermissionMismatch", "the SAS allows create and write (PUT), not "+r.Method)
		return
	}
	switch q.Get("comp") {
	case "":
		// Put Blob.
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			s.storeError(w, http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type")
			return
		}
		s.commit(su, body)
		w.WriteHeader(http.StatusCreated)
	case "block":
		id := q.Get("blockid")
		raw, err := base64.StdEncoding.DecodeString(id)
		if id == "" || err != nil || len(raw) > 64 {
			s.storeError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "blockid must be a Base64 string of at most 64 bytes")
			return
		}
		s.mu.Lock()
		if s.blocks[su.key] == nil {
			s.blocks[su.key] = map[string][]byte{}
		}
		for other := range s.blocks[su.key] {
			if len(other) != len(id) {
				s.mu.Unlock()
				s.storeError(w, http.StatusBadRequest, "InvalidBlobOrBlock", "all block ids of a blob must have the same length")
				return
			}
		}
		s.blocks[su.key][id] = body
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	case "blocklist":
		var bl blockList
		if err := xml.Unmarshal(body, &bl); err != nil || len(bl.Items) == 0 {
			s.storeError(w, http.StatusBadRequest, "InvalidXmlDocument", "XML specified is not syntactically valid")
			return
		}
		var data []byte
		s.mu.Lock()
		staged := s.blocks[su.key]
		for _, it := range bl.Items {
			switch it.XMLName.Local {
			case "Latest", "Uncommitted", "Committed":
			default:
				s.mu.Unlock()
				s.storeError(w, http.StatusBadRequest, "InvalidXmlNodeValue", "unknown element "+it.XMLName.Local)
				return
			}
			b, ok := staged[strings.TrimSpace(it.ID)]
			if !ok {
				s.mu.Unlock()
				s.storeError(w, http.StatusBadRequest, "InvalidBlockList", "The specified block list is invalid: block "+it.ID+" was not staged")
				return
			}
			data = append(data, b...)
		}
		delete(s.blocks, su.key)
		s.mu.Unlock()
		s.commit(su, data)
		w.WriteHeader(http.StatusCreated)
	default:
		s.storeError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "unsupported comp="+q.Get("comp"))
	}
}

func (s *objectStore) serveADLS(w http.ResponseWriter, r *http.Request, su *signedURL, body []byte) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Get("resource") == "file":
		if len(body) != 0 {
			s.storeError(w, http.StatusBadRequest, "InvalidInput", "create takes no body")
			return
		}
		s.mu.Lock()
		s.adls[su.key] = &adlsFile{}
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPatch && (q.Get("action") == "append" || q.Get("action") == "flush"):
		pos, err := strconv.ParseInt(q.Get("position"), 10, 64)
		if err != nil || pos < 0 {
			s.storeError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "position is required")
			return
		}
		s.mu.Lock()
		f := s.adls[su.key]
		if f == nil {
			s.mu.Unlock()
			s.storeError(w, http.StatusNotFound, "PathNotFound", "The specified path does not exist: create it with resource=file first")
			return
		}
		var commit []byte
		if q.Get("action") == "append" {
			if pos != int64(len(f.flushed)+len(f.pending)) {
				s.mu.Unlock()
				s.storeError(w, http.StatusBadRequest, "InvalidAppendPosition", fmt.Sprintf("append position %d is not the end of the data (%d)", pos, len(f.flushed)+len(f.pending)))
				return
			}
			f.pending = append(f.pending, body...)
			if fl, _ := strconv.ParseBool(q.Get("flush")); fl {
				f.flushed = append(f.flushed, f.pending...)
				f.pending = nil
				commit = f.flushed
			}
		} else {
			if len(body) != 0 || pos != int64(len(f.flushed)+len(f.pending)) {
				s.mu.Unlock()
				s.storeError(w, http.StatusBadRequest, "InvalidFlushPosition", fmt.Sprintf("flush position %d is not the length of the appended data (%d)", pos, len(f.flushed)+len(f.pending)))
				return
			}
			f.flushed = append(f.flushed, f.pending...)
			f.pending = nil
			commit = f.flushed
		}
		s.mu.Unlock()
		if commit != nil {
			s.commit(su, commit)
		}
		if q.Get("action") == "append" {
			w.WriteHeader(http.StatusAccepted)
		} else {
			w.WriteHeader(http.StatusOK)
		}
	default:
		s.storeError(w, http.StatusBadRequest, "UnsupportedRestVersion", fmt.Sprintf("unsupported ADLS operation %s %s", r.Method, r.URL.RawQuery))
	}
}

// serveGet serves a download: only with a download URL, only GET (or HEAD).
func (s *objectStore) serveGet(w http.ResponseWriter, r *http.Request, su *signedURL) {
	if !su.read {
		s.storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "the URL is signed for an upload, not for "+r.Method)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.storeError(w, http.StatusForbidden, "SignatureDoesNotMatch", "the URL is signed for GET, not "+r.Method)
		return
	}
	s.mu.Lock()
	data, ok := s.objects[su.key]
	s.mu.Unlock()
	if !ok {
		code := map[Cloud]string{AWS: "NoSuchKey", GCP: "NoSuchKey", Azure: "BlobNotFound", ADLS: "PathNotFound"}[s.cloud]
		s.storeError(w, http.StatusNotFound, code, "The specified key does not exist.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if s.cloud == Azure {
		w.Header().Set("x-ms-blob-type", "BlockBlob")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}
