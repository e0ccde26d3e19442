package graph

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// jsonPOST serves GraphQL over HTTP POST with a JSON body: a transport of
// its own, as gqlgen lets a server add (handler.Server.AddTransport), in
// place of gqlgen's transport.POST, for two reasons. The response's data is
// written as the executor produced it: gqlgen writes a response through
// json.Marshal, which validates and compacts the data again although the
// executor has just written it as compact JSON (on bench/'s nested query
// that was 7 % of the service's CPU). And a response refused before
// execution has no data entry, as the GraphQL specification asks (gqlgen
// writes "data": null; graphql-http's audit warns of it). The content type
// negotiation and the status codes follow gqlgen's, and guardBody has
// already checked the body.
type jsonPOST struct{}

var _ graphql.Transport = jsonPOST{}

func (jsonPOST) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mediaType == jsonMedia
}

func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	params := &graphql.RawParams{}
	// guardBody has read the body into memory and checked it.
	dec := json.NewDecoder(r.Body)
	dec.UseNumber() // as gqlgen decodes: variables keep their numbers exact
	if err := dec.Decode(params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v", err)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		w.WriteHeader(statusForErrors(contentType, opErr))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// responseMediaType is gqlgen's choice of response type from the Accept
// header: application/json unless only application/graphql-response+json
// is asked for or nothing acceptable is.
func responseMediaType(accept string) string {
	if accept == "" {
		return jsonMedia
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", jsonMedia:
			return jsonMedia
		case graphqlResponseMedia:
			return graphqlResponseMedia
		}
	}
	return graphqlResponseMedia
}

// statusForErrors is gqlgen's status for a request refused before
// execution: a protocol error (the document does not parse or validate) is
// 422 for application/json, which statusForJSON turns into 200, and 400
// for application/graphql-response+json; any other error is in the body.
func statusForErrors(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == graphqlResponseMedia {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// writeResponse writes resp as json.Marshal would, with the same members
// in the same order, except that the data is copied as it is, in one write
// with its length, and that a response refused before execution has no
// data entry, as the GraphQL specification asks (gqlgen writes
// "data": null).
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	out := make([]byte, 0, len(resp.Data)+256)
	out = append(out, '{')
	if len(resp.Errors) > 0 {
		out = appendMember(out, "errors", resp.Errors)
	}
	if len(resp.Data) > 0 {
		out = append(append(separate(out), `"data":`...), resp.Data...)
	}
	if resp.Label != "" {
		out = appendMember(separate(out), "label", resp.Label)
	}
	if len(resp.Path) > 0 {
		out = appendMember(separate(out), "path", resp.Path)
	}
	if resp.HasNext != nil {
		out = appendMember(separate(out), "hasNext", *resp.HasNext)
	}
	if len(resp.Extensions) > 0 {
		out = appendMember(separate(out), "extensions", resp.Extensions)
	}
	out = append(out, '}')
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

// separate appends the comma before a member that is not the object's first.
func separate(out []byte) []byte {
	if out[len(out)-1] == '{' {
		return out
	}
	return append(out, ',')
}

// appendMember appends "name":v.
func appendMember(dst []byte, name string, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Errors, paths and extensions are the server's own values; one
		// that does not encode is a bug, reported where it can be seen.
		b, _ = json.Marshal("the response's " + name + " could not be encoded: " + err.Error())
	}
	return append(append(append(dst, '"'), name+`":`...), b...)
}
