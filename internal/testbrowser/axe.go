package testbrowser

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's browser build (axe/axe.min.js, version in its
// first line, licence in axe/LICENSE), copied from the npm package
// axe-core: to update it, `npm pack axe-core@<version>` and copy
// package/axe.min.js and package/LICENSE here.
//
//go:embed axe/axe.min.js
var axeSource string

// CheckAccessibility runs axe-core on the page in tab as it is now and fails
// the test for every serious or critical violation (WCAG A and AA rules and
// axe's best practices), naming screen and the elements concerned. The
// script is evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not restrict.
func CheckAccessibility(t testing.TB, tab context.Context, screen string) {
	t.Helper()
	raw, err := chromedp.Run(tab, chromedp.Evaluate[[]byte](`(async () => {
		if (!window.axe) { `+axeSource+`
		}
		const r = await axe.run(document, { resultTypes: ['violations'] });
		return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }));
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core on %s: %v", screen, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Targets          []string
	}
	if err := json.Unmarshal(raw, &violations); err != nil {
		t.Fatalf("axe-core's answer on %s: %v (%s)", screen, err, raw)
	}
	for _, v := range violations {
		t.Errorf("%s: axe-core finds a %s violation, %s (%s): %s", screen, v.Impact, v.ID, v.Help, strings.Join(v.Targets, ", "))
	}
}
