package viewer_test

import (
	"context"
	"testing"

	"github.com/feedbackloop/feedbackloop/viewer"
)

func TestRolesAreOrdered(t *testing.T) {
	cases := []struct {
		have, need viewer.Role
		ok         bool
	}{
		{viewer.Owner, viewer.Editor, true},
		{viewer.Owner, viewer.Owner, true},
		{viewer.Editor, viewer.Reader, true},
		{viewer.Editor, viewer.Owner, false},
		{viewer.Reader, viewer.Editor, false},
		{viewer.Role("ROOT"), viewer.Reader, false},
		{viewer.Role(""), viewer.Reader, false},
	}
	for _, c := range cases {
		if got := c.have.AtLeast(c.need); got != c.ok {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", c.have, c.need, got, c.ok)
		}
	}
	if got := viewer.Lesser(viewer.Owner, viewer.Reader); got != viewer.Reader {
		t.Errorf("Lesser(OWNER, VIEWER) = %s", got)
	}
	if got := viewer.Lesser(viewer.Editor, viewer.Owner); got != viewer.Editor {
		t.Errorf("Lesser(EDITOR, OWNER) = %s", got)
	}
}

func TestContextCarriesTheViewer(t *testing.T) {
	if viewer.FromContext(context.Background()) != nil {
		t.Fatal("a bare context has a viewer")
	}
	v := &viewer.Viewer{UserID: 7, Subject: "ada", Kind: viewer.User}
	if got := viewer.FromContext(viewer.NewContext(context.Background(), v)); got != v {
		t.Fatalf("got %v", got)
	}
}
