// Stands in for gitleaks' cmd/generate/config/utils/validate.go when bench/suites/gitleaks_samples.py
// builds the rule generators without gitleaks' detector (and its many modules): instead of
// checking each sample it writes it, one JSON line each, to $GITLEAKS_SAMPLES_OUT, with the
// secret the rule's regex reports (its SecretGroup, else the first non-empty group, else the
// whole match), which is how gitleaks' detector picks a finding's secret.

package utils

import (
	"encoding/json"
	"os"

	"github.com/zricethezav/gitleaks/v8/config"
)

type sampleLine struct {
	Rule     string   `json:"rule"`
	Positive bool     `json:"positive"`
	Text     string   `json:"text"`
	Path     string   `json:"path,omitempty"`
	Secrets  []string `json:"secrets"`
}

func secretsOf(r *config.Rule, text string) []string {
	var found []string
	if r.Regex == nil {
		return found
	}
	for _, m := range r.Regex.FindAllStringSubmatch(text, -1) {
		secret := m[0]
		if r.SecretGroup > 0 && r.SecretGroup < len(m) {
			secret = m[r.SecretGroup]
		} else {
			for _, group := range m[1:] {
				if group != "" {
					secret = group
					break
				}
			}
		}
		found = append(found, secret)
	}
	return found
}

func dump(r *config.Rule, positive bool, text string, path string) {
	line, _ := json.Marshal(sampleLine{r.RuleID, positive, text, path, secretsOf(r, text)})
	fh, err := os.OpenFile(os.Getenv("GITLEAKS_SAMPLES_OUT"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	defer fh.Close()
	_, _ = fh.Write(append(line, '\n'))
}

func Validate(rule config.Rule, truePositives []string, falsePositives []string) *config.Rule {
	r := &rule
	for _, tp := range truePositives {
		dump(r, true, tp, "")
	}
	for _, fp := range falsePositives {
		dump(r, false, fp, "")
	}
	return r
}

func ValidateWithPaths(rule config.Rule, truePositives map[string]string, falsePositives map[string]string) *config.Rule {
	r := &rule
	for path, tp := range truePositives {
		dump(r, true, tp, path)
	}
	for path, fp := range falsePositives {
		dump(r, false, fp, path)
	}
	return r
}
