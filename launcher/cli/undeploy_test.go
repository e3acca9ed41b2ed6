package cli

import (
	"strings"
	"testing"
)

func TestUndeploy(t *testing.T) {
	t.Run("deletes endpoint, config and model", func(t *testing.T) {
		h := deployed(t)
		r := h.run("undeploy", "ep", "--wait")
		if r.err != nil {
			t.Fatalf("undeploy: %v\n%s", r.err, r.stderr)
		}
		for _, want := range []string{"deleting endpoint ep", "deleted endpoint config ep-20251125183000", "deleted model ep-20251125183000"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "endpoint ep is gone") || h.srv.EndpointStatus("ep") != "" {
			t.Errorf("endpoint still there (%q); stdout %q", h.srv.EndpointStatus("ep"), r.stdout)
		}
		if m, c := h.srv.HostedModels(), h.srv.EndpointConfigs(); len(m)+len(c) != 0 {
			t.Errorf("left behind models %v configs %v", m, c)
		}
	})
	t.Run("keep model", func(t *testing.T) {
		h := deployed(t)
		if r := h.run("undeploy", "ep", "--keep-model"); r.err != nil {
			t.Fatal(r.err)
		}
		if m, c := h.srv.HostedModels(), h.srv.EndpointConfigs(); len(m) != 1 || len(c) != 0 {
			t.Errorf("models %v configs %v, want the model kept and the config gone", m, c)
		}
		if st := h.srv.EndpointStatus("ep"); st != "Deleting" {
			t.Errorf("endpoint %q, want Deleting (no --wait)", st)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		h := deployed(t)
		reads := h.srv.Calls("SageMaker.DescribeEndpoint")
		r := h.run("undeploy", "ep", "--dry-run")
		if r.err != nil {
			t.Fatal(r.err)
		}
		// the configuration and model are looked up, which a dry run does not: it says so
		want := `{"EndpointName":"ep"}` + "\n" + `{"EndpointConfigName":"dry-run-lookup-config"}` + "\n" + `{"ModelName":"dry-run-lookup-model"}` + "\n"
		if r.stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
		}
		if !strings.Contains(r.stderr, "would look up endpoint ep (DescribeEndpoint)") || strings.Contains(r.stderr, "delet") ||
			h.srv.EndpointStatus("ep") != "InService" || len(h.srv.HostedModels()) != 1 || h.srv.Calls("SageMaker.DescribeEndpoint") != reads {
			t.Errorf("dry run changed or read something, or reported deletions: %q", r.stderr)
		}
	})
	t.Run("errors", func(t *testing.T) {
		h := deployed(t)
		tests := []struct {
			args []string
			want string
			code int
		}{
			{[]string{"undeploy"}, "exactly one endpoint name", ExitUsage},
			{[]string{"undeploy", "bad_name"}, "endpoint name \"bad_name\"", ExitUsage},
			{[]string{"undeploy", "ghost"}, "endpoint ghost does not exist", ExitFailure},
		}
		for _, tc := range tests {
			r := h.run(tc.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || ExitCode(r.err) != tc.code {
				t.Errorf("%v: err %v (exit %d), want exit %d containing %q", tc.args, r.err, ExitCode(r.err), tc.code, tc.want)
			}
		}
	})
}
