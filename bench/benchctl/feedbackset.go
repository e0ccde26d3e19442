package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// item is one feedback to submit.
type item struct {
	Text     string
	Task     int    // index into the project's tasks
	Kind     string // distinct, exact, near, low, high: stored as the user name "bench-<kind>"
	Priority string // LOW, NORMAL, HIGH; "" sends none
}

// words make the feedback texts: twenty of them drawn at random make texts
// whose trigrams barely overlap, so only the duplicates made on purpose
// are near one another.
var words = strings.Fields(`account address alert answer archive backup badge balance banner basket
	billing board browser budget button cache calendar camera card cart channel chart checkout
	client column comment contract cookie coupon credit currency cursor dashboard database deadline
	delivery device dialog discount document download draft editor email export feature field filter
	folder font footer form gallery graph header history icon image import inbox invoice keyboard
	label language layout license link list login logo mailbox map menu message mobile modal
	network notice number order page panel password payment permission phone photo picker plan
	popup preview price printer profile progress project query queue receipt refund report request
	schedule screen search section session setting shipment sidebar signature slider spinner status
	storage subscription summary support survey tab table tag template theme ticket timeline toggle
	token tooltip tracking upload user video view voucher wallet warning widget window wizard zoom
	slow broken missing confusing blank late wrong tiny huge flaky stuck hidden duplicated frozen
	crashes freezes disappears loads fails jumps flickers hangs resets breaks lags repeats vanishes`)

// sentence is n words drawn from words, capitalised, with a full stop.
func sentence(rng *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = words[rng.IntN(len(words))]
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// distinctSet is n feedback of different texts on random tasks.
func distinctSet(rng *rand.Rand, n, tasks int, kind, priority string) []item {
	set := make([]item, n)
	for i := range set {
		set[i] = item{Text: sentence(rng, 20), Task: rng.IntN(tasks), Kind: kind, Priority: priority}
	}
	return set
}

// dupSet is n feedback of which the shares exact and near repeat an
// earlier one: exact with the same text, near with one small edit (a word
// replaced, dropped or swapped with its neighbour, or a few words added),
// each on the task of the one it repeats. A repeat comes at least gap
// places after its original, as repeats arrive over time in a real
// stream; the first gap places are originals.
func dupSet(rng *rand.Rand, n, tasks int, exact, near float64, gap int) []item {
	kinds := make([]string, n)
	nExact, nNear := int(float64(n)*exact+0.5), int(float64(n)*near+0.5)
	for i := range kinds {
		switch {
		case i < nExact:
			kinds[i] = "exact"
		case i < nExact+nNear:
			kinds[i] = "near"
		default:
			kinds[i] = "distinct"
		}
	}
	rng.Shuffle(n, func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	// The first gap places must be originals: swap repeats there with
	// originals further on.
	for i, j := 0, min(gap, n); i < min(gap, n); i++ {
		if kinds[i] == "distinct" {
			continue
		}
		for j < n && kinds[j] != "distinct" {
			j++
		}
		if j == n {
			break
		}
		kinds[i], kinds[j] = kinds[j], kinds[i]
	}
	set := make([]item, n)
	var originals []int
	for i, kind := range kinds {
		if kind == "distinct" || i < gap {
			set[i] = item{Text: sentence(rng, 20), Task: rng.IntN(tasks), Kind: "distinct"}
			originals = append(originals, i)
			continue
		}
		// an original submitted at least gap places before
		k := 0
		for k < len(originals) && originals[k] <= i-gap {
			k++
		}
		o := set[originals[rng.IntN(max(k, 1))]]
		text := o.Text
		if kind == "near" {
			text = nearEdit(rng, text)
		}
		set[i] = item{Text: text, Task: o.Task, Kind: kind}
	}
	return set
}

// nearEdit makes one small edit to a text of words.
func nearEdit(rng *rand.Rand, text string) string {
	w := strings.Fields(strings.TrimSuffix(text, "."))
	i := 1 + rng.IntN(len(w)-2)
	switch rng.IntN(4) {
	case 0:
		w[i] = words[rng.IntN(len(words))]
	case 1:
		w = append(w[:i], w[i+1:]...)
	case 2:
		w[i], w[i+1] = w[i+1], w[i]
	default:
		return text + " " + []string{"Please fix this.", "Still happening today.", "Same on my phone.", "Thanks!"}[rng.IntN(4)]
	}
	return strings.Join(w, " ") + "."
}

// setSummary counts a set's kinds, for the log.
func setSummary(set []item) string {
	n := map[string]int{}
	for _, it := range set {
		n[it.Kind]++
	}
	return fmt.Sprint(n)
}
