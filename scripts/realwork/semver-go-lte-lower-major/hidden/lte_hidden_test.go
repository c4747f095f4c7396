package semver

import "testing"

func TestLessThanEqualAcrossMajors(t *testing.T) {
	tests := []struct {
		constraint string
		version    string
		check      bool
	}{
		{"<=4.5", "3.4.0", true},
		{"<=4.5", "3.7.0", true},
		{"<=4.5", "4.6.3", false},
		{"1.5.0 - 4.5", "3.7.0", true},
	}

	for _, tc := range tests {
		c, err := NewConstraint(tc.constraint)
		if err != nil {
			t.Errorf("%s: %s", tc.constraint, err)
			continue
		}
		v, err := NewVersion(tc.version)
		if err != nil {
			t.Errorf("%s: %s", tc.version, err)
			continue
		}
		if got := c.Check(v); got != tc.check {
			t.Errorf("constraint %q on %q: expected %t, got %t", tc.constraint, tc.version, tc.check, got)
		}
	}
}
