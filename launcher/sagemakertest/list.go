package sagemakertest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// listRequest is a List*Jobs request: name and status filters and a page.
type listRequest struct {
	NameContains string
	StatusEquals string
	MaxResults   int
	NextToken    string
	SortOrder    string
}

// parseList reads a List*Jobs body: MaxResults defaults to 10 and is at most 100.
func parseList(body []byte) (listRequest, error) {
	var in listRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return in, &Error{Type: "SerializationException", Message: err.Error()}
	}
	if in.MaxResults == 0 {
		in.MaxResults = 10
	}
	if in.MaxResults < 1 || in.MaxResults > 100 {
		return in, validation([]string{fmt.Sprintf("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100", in.MaxResults)})
	}
	return in, nil
}

// page filters the job names in order by name and by status (status gives a job's),
// sorts them and cuts the requested page; next is the token of the page after it, ""
// at the end.
func (in listRequest) page(order []string, status func(name string) string) (names []string, next string) {
	var all []string
	for _, n := range order {
		if in.NameContains != "" && !strings.Contains(strings.ToLower(n), strings.ToLower(in.NameContains)) {
			continue
		}
		if in.StatusEquals != "" && status(n) != in.StatusEquals {
			continue
		}
		all = append(all, n)
	}
	if in.SortOrder == "Descending" {
		slices.Reverse(all)
	}
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+in.MaxResults, len(all))
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[min(start, len(all)):end], next
}
