package prompts

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"
)

// cacheKey is a version as MLflow's PromptCacheKey names it: by name and
// version number, or by name and alias.
type cacheKey struct {
	name    string
	version string // the version's number, without leading zeros
	alias   string
}

func (r ref) key() cacheKey {
	if r.alias != "" {
		return cacheKey{name: r.name, alias: r.alias}
	}
	return cacheKey{name: r.name, version: trimZeros(r.version)}
}

// trimZeros is the text of int(digits) ("" stays "").
func trimZeros(digits string) string {
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	return digits
}

// cache is MLflow's PromptCache, one per Client: entries expire after their
// TTL; beyond max entries the one that expires first goes.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]cached
}

type cached struct {
	p       *PromptVersion
	expires time.Time // zero: never
}

// get returns a copy of the version cached under k, or nil.
func (c *cache) get(k cacheKey, now time.Time) *PromptVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil
	}
	if !e.expires.IsZero() && now.After(e.expires) {
		delete(c.m, k)
		return nil
	}
	return e.p.clone()
}

// put caches a copy of p under k for ttl.
func (c *cache) put(k cacheKey, p *PromptVersion, now time.Time, ttl time.Duration) {
	e := cached{p: p.clone()}
	if exp := now.Add(ttl); ttl != forever && exp.After(now) { // a TTL past time's range: for good
		e.expires = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey]cached)
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[k] = e
}

// evict drops the expired entries and, if the cache is still full, the
// entry that expires first (one that never expires last).
func (c *cache) evict(now time.Time) {
	var victim cacheKey
	var victimAt time.Time // zero: never
	have := false
	for k, e := range c.m {
		if !e.expires.IsZero() && now.After(e.expires) {
			delete(c.m, k)
			continue
		}
		if !have || !e.expires.IsZero() && (victimAt.IsZero() || e.expires.Before(victimAt)) {
			victim, victimAt, have = k, e.expires, true
		}
	}
	if have && len(c.m) >= c.max {
		delete(c.m, victim)
	}
}

// clone returns a copy that shares nothing mutable with p.
func (p *PromptVersion) clone() *PromptVersion {
	c := *p
	c.Tags = maps.Clone(p.Tags)
	c.Aliases = slices.Clone(p.Aliases)
	c.Messages = slices.Clone(p.Messages)
	c.ResponseFormat = json.RawMessage(slices.Clone([]byte(p.ResponseFormat)))
	c.ModelConfig = json.RawMessage(slices.Clone([]byte(p.ModelConfig)))
	return &c
}
