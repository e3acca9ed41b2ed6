package sagemakertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

type logEvent struct {
	t       time.Time
	message string
}

type logStream struct {
	created time.Time
	events  []logEvent
}

func (s *Server) appendLog(group, stream string, t time.Time, message string) {
	g := s.logs[group]
	if g == nil {
		g = map[string]*logStream{}
		s.logs[group] = g
	}
	st := g[stream]
	if st == nil {
		st = &logStream{created: t}
		g[stream] = st
	}
	st.events = append(st.events, logEvent{t: t, message: message})
}

func (s *Server) logOps() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"Logs_20140328.DescribeLogStreams": s.describeLogStreams,
		"Logs_20140328.GetLogEvents":       s.getLogEvents,
	}
}

func logsNotFound(what string) *Error {
	return &Error{Type: "ResourceNotFoundException", Message: "The specified " + what + " does not exist."}
}

func (s *Server) describeLogStreams(_ context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		NextToken           string `json:"nextToken"`
		Limit               int    `json:"limit"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	g, ok := s.logs[in.LogGroupName]
	if !ok {
		return nil, logsNotFound("log group")
	}
	if in.Limit == 0 {
		in.Limit = 50
	}
	var names []string
	for _, n := range sortedKeys(g) {
		if strings.HasPrefix(n, in.LogStreamNamePrefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+in.Limit, len(names))
	streams := []map[string]any{}
	for _, n := range names[min(start, len(names)):end] {
		st := g[n]
		m := map[string]any{"logStreamName": n, "creationTime": st.created.UnixMilli(),
			"arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", s.region, s.account, in.LogGroupName, n)}
		if len(st.events) > 0 {
			m["firstEventTimestamp"] = st.events[0].t.UnixMilli()
			m["lastEventTimestamp"] = st.events[len(st.events)-1].t.UnixMilli()
		}
		streams = append(streams, m)
	}
	out := map[string]any{"logStreams": streams}
	if end < len(names) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// getLogEvents pages forward with tokens "f/<index>"; like the service, it returns
// the same forward token again when there is nothing new. With WithEmptyLogPages(n)
// it first answers n empty pages at every position that has events left, each with
// a new token ("f/<index>.<k>"), as the service may: an empty page is not the end
// of the stream, an unchanged token is.
func (s *Server) getLogEvents(_ context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		NextToken     string `json:"nextToken"`
		Limit         int    `json:"limit"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	st, ok := s.logs[in.LogGroupName][in.LogStreamName]
	if !ok {
		return nil, logsNotFound("log stream")
	}
	if in.Limit == 0 {
		in.Limit = 10000
	}
	start, empties := 0, 0
	if in.NextToken != "" {
		pos, k, hasK := strings.Cut(strings.TrimPrefix(in.NextToken, "f/"), ".")
		n, err := strconv.Atoi(pos)
		if hasK && err == nil {
			empties, err = strconv.Atoi(k)
		}
		if err != nil || !strings.HasPrefix(in.NextToken, "f/") {
			return nil, &Error{Type: "InvalidParameterException", Message: "The specified nextToken is invalid."}
		}
		start = n
	}
	if start < len(st.events) && empties < s.emptyLogPages {
		next := fmt.Sprintf("f/%d.%d", start, empties+1)
		return map[string]any{"events": []any{}, "nextForwardToken": next, "nextBackwardToken": "b/" + strconv.Itoa(start)}, nil
	}
	end := min(start+in.Limit, len(st.events))
	events := []map[string]any{}
	for _, e := range st.events[min(start, end):end] {
		events = append(events, map[string]any{"timestamp": e.t.UnixMilli(), "ingestionTime": e.t.UnixMilli(), "message": e.message})
	}
	next := "f/" + strconv.Itoa(end)
	if start == end && in.NextToken != "" {
		next = in.NextToken // the end of the stream: the same token again
	}
	return map[string]any{"events": events, "nextForwardToken": next, "nextBackwardToken": "b/" + strconv.Itoa(start)}, nil
}
