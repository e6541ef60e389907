package llmtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// AWS credentials and region the fake Bedrock Runtime accepts by default.
// A client signs its requests with them (Signature Version 4); the fake
// checks the signature. BedrockAPIKey is a Bedrock API key
// (AWS_BEARER_TOKEN_BEDROCK), sent instead as "Authorization: Bearer …".
const (
	AWSAccessKeyID     = "AKIALLMTESTBEDROCK01"
	AWSSecretAccessKey = "llmtest/bedrock/fake+secret/0000000000000"
	AWSRegion          = "us-east-1"
	BedrockAPIKey      = "ABSKbGxtdGVzdC1iZWRyb2NrLWFwaS1rZXk="
)

// sigv4Skew is how far a request's X-Amz-Date may be from the fake's clock
// (AWS allows 15 minutes).
const sigv4Skew = 15 * time.Minute

// WithAWSCredentials sets the access key id and secret key (and, when not
// empty, the session token a request must carry as X-Amz-Security-Token)
// that the Bedrock endpoints accept (default AWSAccessKeyID and
// AWSSecretAccessKey, no session token).
func WithAWSCredentials(accessKeyID, secretAccessKey, sessionToken string) Option {
	return optionFunc(func(f *Fake) {
		f.awsKeyID, f.awsSecret, f.awsToken = accessKeyID, secretAccessKey, sessionToken
	})
}

// WithAWSRegion sets the region a request's credential scope must name
// (default AWSRegion).
func WithAWSRegion(region string) Option {
	return optionFunc(func(f *Fake) { f.awsRegion = region })
}

// checkAuth verifies a Bedrock request's credentials as AWS does: a Bedrock
// API key as a bearer token, or a Signature Version 4 Authorization header
// whose credential scope names the fake's region and the service "bedrock",
// whose signed headers include host and x-amz-date, whose X-Amz-Date is
// within 15 minutes of now, and whose signature matches the one the fake
// computes from the request and the secret key.
func (f *Fake) checkAuth(r *http.Request, body []byte) *bedrockBad {
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		if tok != BedrockAPIKey {
			return &bedrockBad{403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix"}
		}
		return nil
	}
	if auth == "" {
		return &bedrockBad{403, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	const algorithm = "AWS4-HMAC-SHA256"
	rest, ok := strings.CutPrefix(auth, algorithm+" ")
	if !ok {
		return &bedrockBad{403, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + firstWord(auth)}
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if parts[k] == "" {
			return &bedrockBad{403, "IncompleteSignatureException", fmt.Sprintf("Authorization header requires '%s' parameter. Authorization=%s", k, algorithm)}
		}
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return &bedrockBad{403, "IncompleteSignatureException", "Credential should be scoped to a valid region, not a malformed credential scope."}
	}
	keyID, day, region, service := scope[0], scope[1], scope[2], scope[3]
	if keyID != f.awsKeyID {
		return &bedrockBad{403, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if tok := r.Header.Get("X-Amz-Security-Token"); tok != f.awsToken {
		return &bedrockBad{403, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return &bedrockBad{403, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}
	}
	if day != amzDate[:8] {
		return &bedrockBad{403, "InvalidSignatureException", fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", day, amzDate[:8], amzDate)}
	}
	if region != f.awsRegion {
		return &bedrockBad{403, "InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region. (got %q, want %q)", region, f.awsRegion)}
	}
	if service != "bedrock" {
		return &bedrockBad{403, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'. "}
	}
	if now := time.Now(); at.Before(now.Add(-sigv4Skew)) || at.After(now.Add(sigv4Skew)) {
		return &bedrockBad{403, "InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-sigv4Skew).UTC().Format("20060102T150405Z"), now.UTC().Format("20060102T150405Z"))}
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) || !contains(signed, "host") || !contains(signed, "x-amz-date") {
		return &bedrockBad{403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details. (SignedHeaders must be sorted and include host and x-amz-date)"}
	}
	if r.Header.Get("X-Amz-Security-Token") != "" && !contains(signed, "x-amz-security-token") {
		return &bedrockBad{403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. (x-amz-security-token is not signed)"}
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != "UNSIGNED-PAYLOAD" {
		if sum := sha256.Sum256(body); h != hex.EncodeToString(sum[:]) {
			return &bedrockBad{400, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."}
		}
	}
	canonical := canonicalRequest(r, signed, body)
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+f.awsSecret), day)
	for _, s := range []string{region, service, "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return &bedrockBad{403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'" + canonical + "'\n\nThe String-to-Sign should have been\n'" + toSign + "'\n"}
	}
	return nil
}

// canonicalRequest is SigV4's canonical request (the path URI-encoded once
// more, as for every service but S3).
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	segments := strings.Split(r.URL.EscapedPath(), "/")
	for i, s := range segments {
		segments[i] = awsEscape(s)
	}
	b.WriteString(strings.Join(segments, "/"))
	b.WriteByte('\n')
	q := r.URL.Query()
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, awsEscape(k)+"="+awsEscape(v))
		}
	}
	sort.Strings(pairs)
	b.WriteString(strings.Join(pairs, "&"))
	b.WriteByte('\n')
	for _, h := range signed {
		var vals []string
		if h == "host" {
			vals = []string{r.Host}
		} else {
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		b.WriteString(h)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// awsEscape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as
// %XX.
func awsEscape(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// unescapePath decodes one escaped path segment.
func unescapePath(s string) (string, bool) {
	u, err := url.PathUnescape(s)
	return u, err == nil
}
