package graphql

import (
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// collectFieldsCacheKey is the cache key for CollectFields results.
type collectFieldsCacheKey struct {
	selectionPtr  *ast.Selection // The SelectionSet's first element
	selectionLen  int            // Length of the selection set
	satisfiesHash uint64         // Hash of the satisfies array
}

// collectFieldsCacheStore manages CollectFields cache entries safely.
type collectFieldsCacheStore struct {
	mu    sync.RWMutex
	items map[collectFieldsCacheKey][]CollectedField
}

// Get returns the cached result for the key if present.
func (s *collectFieldsCacheStore) Get(key collectFieldsCacheKey) ([]CollectedField, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.items == nil {
		return nil, false
	}
	val, ok := s.items[key]
	return val, ok
}

// Add stores the value when absent and returns the cached value.
func (s *collectFieldsCacheStore) Add(
	key collectFieldsCacheKey,
	value []CollectedField,
) []CollectedField {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.items == nil {
		s.items = make(map[collectFieldsCacheKey][]CollectedField)
	}

	if existing, ok := s.items[key]; ok {
		return existing
	}
	s.items[key] = value
	return value
}

// Len returns the number of cached entries.
func (s *collectFieldsCacheStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// makeCollectFieldsCacheKey generates a cache key for CollectFields.
func makeCollectFieldsCacheKey(selSet ast.SelectionSet, satisfies []string) collectFieldsCacheKey {
	// The first element's address names the set's data, as
	// reflect.Value.Pointer did, without boxing the slice in an interface.
	var selectionPtr *ast.Selection
	if len(selSet) > 0 {
		selectionPtr = &selSet[0]
	}

	// FNV-1a, as hash/fnv's New64a computes it, without its allocation:
	// every object of a response makes a key.
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for _, s := range satisfies {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
		h ^= 0
		h *= prime64
	}

	return collectFieldsCacheKey{
		selectionPtr:  selectionPtr,
		selectionLen:  len(selSet),
		satisfiesHash: h,
	}
}
