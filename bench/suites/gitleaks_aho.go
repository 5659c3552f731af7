// Package ahocorasick: the few names gitleaks' config package uses, enough to build the rule
// generators (no rule generator matches stop words through it).
package ahocorasick

import "strings"

type Match struct{ s string }

func (m *Match) MatchString() string { return m.s }

type Trie struct{ words []string }

type TrieBuilder struct{ words []string }

func NewTrieBuilder() *TrieBuilder { return &TrieBuilder{} }

func (b *TrieBuilder) AddStrings(words []string) *TrieBuilder {
	b.words = append(b.words, words...)
	return b
}

func (b *TrieBuilder) Build() *Trie { return &Trie{b.words} }

func (t *Trie) MatchString(s string) []*Match {
	var out []*Match
	for _, w := range t.words {
		if strings.Contains(s, w) {
			out = append(out, &Match{w})
		}
	}
	return out
}

func (t *Trie) MatchFirstString(s string) *Match {
	if m := t.MatchString(s); len(m) > 0 {
		return m[0]
	}
	return nil
}
