package optml

import "testing"

func TestRootFromEnv(t *testing.T) {
	tests := []struct{ env, want string }{
		{"", "/opt/ml"},
		{"  ", "/opt/ml"},
		{"/tmp/x", "/tmp/x"},
	}
	for _, tt := range tests {
		got := RootFromEnv(func(k string) string {
			if k == RootEnv {
				return tt.env
			}
			return ""
		})
		if got != tt.want {
			t.Errorf("RootFromEnv(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
	if got := RootFromEnv(nil); got != DefaultRoot {
		t.Errorf("RootFromEnv(nil) = %q", got)
	}
}
