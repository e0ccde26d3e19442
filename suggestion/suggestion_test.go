package suggestion_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	_ "github.com/feedbackloop/feedbackloop/ent/runtime" // sets the task schema's validators
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/suggestion"
)

// generatedValues reads the values of the constants of type typeName that
// ent generated in dir, so that the table is checked against the generated
// code itself rather than against a list copied into this test.
func generatedValues(t *testing.T, dir, typeName string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var values []string
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: a %s constant that is not a string literal", name, typeName)
					}
					s, _ := strconv.Unquote(lit.Value)
					values = append(values, s)
				}
			}
		}
	}
	if len(values) == 0 {
		t.Fatalf("found no constants of type %s in %s", typeName, dir)
	}
	return values
}

func TestTableMatchesTheEntEnum(t *testing.T) {
	enum := generatedValues(t, "../ent/adjustment", "AdjustmentType")
	kinds := suggestion.Kinds()
	for _, v := range enum {
		n := 0
		for _, k := range kinds {
			if string(k.Type) == v {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ent value %s has %d rows, want 1", v, n)
		}
	}
	names := map[string]bool{}
	for _, k := range kinds {
		if !slices.Contains(enum, string(k.Type)) || adjustment.AdjustmentTypeValidator(k.Type) != nil {
			t.Errorf("row %s: %s is not an ent value", k.Name, k.Type)
		}
		if names[k.Name] || k.Name == "" || k.Name != strings.ToLower(k.Name) || k.Hint == "" {
			t.Errorf("row %+v: a wire name must be unique and lower case, and a hint is required", k)
		}
		names[k.Name] = true
		if got, ok := suggestion.ByType(k.Type); !ok || got.Name != k.Name {
			t.Errorf("ByType(%s) = %s, %v", k.Type, got.Name, ok)
		}
		if got, ok := suggestion.ByName(" " + strings.ToUpper(k.Name) + " "); !ok || got.Type != k.Type {
			t.Errorf("ByName(%s) = %s, %v", k.Name, got.Type, ok)
		}
		if k.Field != "" && !task.ValidColumn(k.Field) {
			t.Errorf("row %s changes %q, not a task field", k.Name, k.Field)
		}
	}
	if len(kinds) != len(enum) {
		t.Errorf("%d rows for %d ent values", len(kinds), len(enum))
	}
	if _, ok := suggestion.ByName("rewrite"); ok {
		t.Error("ByName found an unknown kind")
	}
	if _, ok := suggestion.ByType("REWRITE"); ok {
		t.Error("ByType found an unknown kind")
	}
	kinds[0].Name = "changed"
	if k, _ := suggestion.ByType(kinds[0].Type); k.Name == "changed" {
		t.Error("Kinds hands out the table itself")
	}
}

func TestNewValueRules(t *testing.T) {
	cases := map[string]map[string]string{ // kind: input -> normalised ("!" prefix: the error)
		"task_priority": {"4": "4", " 0 ": "0", "5": "5", "6": "!must be a whole number from 0 to 5", "-1": "!", "high": "!", "2.5": "!"},
		"task_status": {"done": "DONE", " In Progress ": "IN_PROGRESS", "in-progress": "IN_PROGRESS", "blocked": "BLOCKED",
			"LATER": "!must be one of TODO, IN_PROGRESS, BLOCKED, DONE", "": "!"},
		"task_estimate": {" 7.50 ": "7.5", "0": "0", "-0": "0", "10000": "10000", "10000.5": "!must be a number of hours from 0 to 10000",
			"-3": "!", "NaN": "!", "Inf": "!", "8h": "!"},
		"new_task":         {" Refunds ": "Refunds", strings.Repeat("é", 255): strings.Repeat("é", 255), strings.Repeat("é", 256): "!must be a title of at most 255", "  ": "!"},
		"task_description": {"anything at all": "anything at all"},
		"remove_task":      {"whatever": "whatever"},
		"general":          {"whatever": "whatever"},
	}
	for name, inputs := range cases {
		k, ok := suggestion.ByName(name)
		if !ok {
			t.Fatalf("no kind %s", name)
		}
		for in, want := range inputs {
			got, err := k.NewValue(in)
			switch {
			case strings.HasPrefix(want, "!"):
				if err == nil || !strings.HasPrefix(err.Error(), want[1:]) {
					t.Errorf("%s %q: %q, %v; want an error starting %q", name, in, got, err, want[1:])
				}
			case err != nil || got != want:
				t.Errorf("%s %q = %q, %v; want %q", name, in, got, err, want)
			}
		}
	}
}

// What the table accepts, the task schema accepts: an apply step can use a
// normalised value as is.
func TestNewValuesFitTheTaskSchema(t *testing.T) {
	for _, s := range generatedValues(t, "../ent/task", "Status") {
		k, _ := suggestion.ByName("task_status")
		if got, err := k.NewValue(strings.ToLower(s)); err != nil || got != s {
			t.Errorf("status %s: %q, %v", s, got, err)
		}
	}
	if task.PriorityValidator(suggestion.MaxPriority) != nil || task.PriorityValidator(0) != nil ||
		task.PriorityValidator(suggestion.MaxPriority+1) == nil || task.PriorityValidator(-1) == nil {
		t.Errorf("the task schema's priority range is not 0 to %d", suggestion.MaxPriority)
	}
	k, _ := suggestion.ByName("new_task")
	longest := strings.Repeat("x", 255)
	if _, err := k.NewValue(longest); err != nil || task.TitleValidator(longest) != nil || task.TitleValidator(longest+"x") == nil {
		t.Errorf("the new_task title limit differs from the task schema's: %v", err)
	}
	if task.EstimatedHoursValidator(suggestion.MaxEstimateHours) != nil || task.EstimatedHoursValidator(0) != nil ||
		task.EstimatedHoursValidator(suggestion.MaxEstimateHours+0.5) == nil {
		t.Errorf("the task schema's estimate range is not 0 to %d", suggestion.MaxEstimateHours)
	}
}
