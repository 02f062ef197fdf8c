package catalog

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// The VM parameter rules are data (the vm_parameters table) served verbatim
// by idcloudhost GET /api/parameters/vm and enforced here by code on VM
// create and modify, so that what the API says is what it does.
//
// The set of parameters is fixed (each one is a field of VMSpec the code
// knows how to check); the operator edits their description, whether they
// are mandatory, the ranges, the regular expressions and the per-OS
// overrides, or removes a rule (then it is neither served nor enforced).
// The os_name and os_version enums are not stored: they are the image
// catalogue's published versions (ID-amb-31).
//
// Regular expressions are served as stored. Go's RE2 has no look-ahead,
// so an expression of the form ^(?=A)(?=B)…R — the seed's password and
// username rules — is checked in code as the conjunction of ^(?:A),
// ^(?:B), … and ^(?:R), which is what the look-aheads at the start mean
// (ID-amb-11). Any other expression RE2 cannot compile is refused when the
// operator stores it.

// VM parameter names (the wire names of VM create).
const (
	ParamDisks     = "disks"
	ParamName      = "name"
	ParamOSName    = "os_name"
	ParamOSVersion = "os_version"
	ParamPassword  = "password"
	ParamRAM       = "ram"
	ParamUsername  = "username"
	ParamVCPU      = "vcpu"
)

// Parameter constraint kinds (the "constraint" member of a VMParam).
const (
	ConstraintRange  = "range"
	ConstraintRegexp = "regexp"
	ConstraintEnum   = "enum"
)

type paramKind struct{ typ, constraint string }

// paramKinds is the fixed set of parameters, in served order (the seed
// lists them alphabetically).
var paramKinds = map[string]paramKind{
	ParamDisks:     {"integer", ConstraintRange},
	ParamName:      {"string", ConstraintRegexp},
	ParamOSName:    {"string", ConstraintEnum},
	ParamOSVersion: {"string", ConstraintEnum},
	ParamPassword:  {"string", ConstraintRegexp},
	ParamRAM:       {"integer", ConstraintRange},
	ParamUsername:  {"string", ConstraintRegexp},
	ParamVCPU:      {"integer", ConstraintRange},
}

// ParamNames lists the VM parameters, in served order.
func ParamNames() []string {
	out := make([]string, 0, len(paramKinds))
	for n := range paramKinds {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// MaxRange bounds range values (MB of RAM is the largest quantity).
const MaxRange = math.MaxInt32

// Param is one VM parameter rule (idcloudhost VMParam).
type Param struct {
	Parameter   string
	Description string
	Mandatory   bool
	Min, Max    int64    // range parameters
	Expression  string   // regexp parameters, served verbatim
	Values      []string // os_name: the images with a published version (computed)
	Limits      []Limit  // per-OS overrides (os_version: the published versions per image, computed)
	UpdatedAt   time.Time
}

// Type is the parameter's type: "integer" or "string".
func (p Param) Type() string { return paramKinds[p.Parameter].typ }

// Constraint is the parameter's constraint: range, regexp or enum.
func (p Param) Constraint() string { return paramKinds[p.Parameter].constraint }

// LimitedBy is "os_name" when the rule has per-OS overrides (always for
// os_version), "" otherwise.
func (p Param) LimitedBy() string {
	if len(p.Limits) > 0 || p.Parameter == ParamOSVersion {
		return ParamOSName
	}
	return ""
}

// Limit overrides a rule for one OS. A nil member keeps the rule's value.
type Limit struct {
	OSName    string
	Min, Max  *int64   // range parameters
	Mandatory *bool    // any stored parameter
	Values    []string // os_version: the image's published versions (computed)
}

// PutParamInput creates or replaces a VM parameter rule.
type PutParamInput struct {
	Parameter   string
	Description string
	Mandatory   bool
	Min, Max    *int64 // range parameters: both required; others: absent
	Expression  string // regexp parameters: required; others: empty
	Limits      []Limit
}

// Validate checks the input; field names are those of the VMParam object
// (parameter, description, min, max, expression, limits).
func (in *PutParamInput) Validate() error {
	k, ok := paramKinds[in.Parameter]
	if !ok {
		return errs.Invalidf("parameter", "must be one of %s", strings.Join(ParamNames(), ", "))
	}
	var err error
	if in.Description, err = validate.Text("description", strings.TrimSpace(in.Description), 1000); err != nil {
		return err
	}
	switch k.constraint {
	case ConstraintRange:
		if in.Min == nil {
			return errs.Invalid("min", "is required for a range parameter")
		}
		if in.Max == nil {
			return errs.Invalid("max", "is required for a range parameter")
		}
		if *in.Min < 0 || *in.Min > MaxRange {
			return errs.Invalidf("min", "must be between 0 and %d", MaxRange)
		}
		if *in.Max < *in.Min || *in.Max > MaxRange {
			return errs.Invalidf("max", "must be between min (%d) and %d", *in.Min, MaxRange)
		}
		if in.Expression != "" {
			return errs.Invalid("expression", "is only for regexp parameters")
		}
	case ConstraintRegexp:
		if in.Min != nil {
			return errs.Invalid("min", "is only for range parameters")
		}
		if in.Max != nil {
			return errs.Invalid("max", "is only for range parameters")
		}
		if in.Expression == "" {
			return errs.Invalid("expression", "is required for a regexp parameter")
		}
		if len(in.Expression) > 1000 {
			return errs.Invalid("expression", "must be at most 1000 characters")
		}
		if _, err := compileRule(in.Expression); err != nil {
			return errs.Invalidf("expression", "cannot be checked: %v", err)
		}
	case ConstraintEnum:
		if in.Min != nil {
			return errs.Invalid("min", "is only for range parameters")
		}
		if in.Max != nil {
			return errs.Invalid("max", "is only for range parameters")
		}
		if in.Expression != "" {
			return errs.Invalid("expression", "is only for regexp parameters")
		}
		if len(in.Limits) > 0 {
			return errs.Invalid("limits", "the values of os_name and os_version come from the image catalogue")
		}
	}
	if len(in.Limits) > 100 {
		return errs.Invalid("limits", "at most 100 limits")
	}
	seen := map[string]bool{}
	for i := range in.Limits {
		l := &in.Limits[i]
		if !ValidOSName(l.OSName) {
			return errs.Invalidf("limits", "limit %d: os_name must be an image os_name", i+1)
		}
		if seen[l.OSName] {
			return errs.Invalidf("limits", "os_name %q is listed twice", l.OSName)
		}
		seen[l.OSName] = true
		if len(l.Values) > 0 {
			return errs.Invalidf("limits", "os_name %q: values are only for os_version, which comes from the image catalogue", l.OSName)
		}
		if k.constraint != ConstraintRange && (l.Min != nil || l.Max != nil) {
			return errs.Invalidf("limits", "os_name %q: min and max are only for range parameters", l.OSName)
		}
		if l.Min == nil && l.Max == nil && l.Mandatory == nil {
			return errs.Invalidf("limits", "os_name %q: sets nothing (give min, max or mandatory)", l.OSName)
		}
		if k.constraint == ConstraintRange {
			lo, hi := *in.Min, *in.Max
			if l.Min != nil {
				lo = *l.Min
			}
			if l.Max != nil {
				hi = *l.Max
			}
			if lo < 0 || hi > MaxRange || lo > hi {
				return errs.Invalidf("limits", "os_name %q: the range %d to %d is empty or out of 0 to %d", l.OSName, lo, hi, MaxRange)
			}
		}
	}
	return nil
}

// VMSpec is what VM creation asks for, in the units of the wire (RAM in
// MB, disk in GB). Zero numbers and empty strings are "not given".
type VMSpec struct {
	Name, OSName, OSVersion, Username, Password string
	VCPU, RAMMB, DiskGB                         int64
	// HasUsername: the request carried a username (possibly empty).
	HasUsername bool
	// FromSource: the VM is a copy of a replica or boots from an existing
	// disk (ID-amb-9): os_name, os_version and disks are not required
	// and not checked against the catalogue (they describe the source);
	// OSName, when given, still selects the per-OS limits.
	FromSource bool
}

// VMRules are the VM parameter rules in force, with the image catalogue's
// enums filled in: what GET /api/parameters/vm serves and what VM create
// and modify check.
type VMRules struct {
	// Params in served order (alphabetical by parameter).
	Params   []Param
	matchers map[string]*matcher
	versions map[string][]string // os_name → published versions
}

// newVMRules builds the rules from the stored parameters and the images.
func newVMRules(params []Param, images []Image) (VMRules, error) {
	r := VMRules{matchers: map[string]*matcher{}, versions: map[string][]string{}}
	slices.SortFunc(images, func(a, b Image) int {
		if a.UIPosition != b.UIPosition {
			return int(a.UIPosition - b.UIPosition)
		}
		return strings.Compare(a.OSName, b.OSName)
	})
	var osNames []string
	var osLimits []Limit
	for _, im := range images {
		var vs []string
		for _, v := range im.Versions {
			if v.Published {
				vs = append(vs, v.OSVersion)
			}
		}
		if len(vs) == 0 {
			continue
		}
		r.versions[im.OSName] = vs
		osNames = append(osNames, im.OSName)
		osLimits = append(osLimits, Limit{OSName: im.OSName, Values: vs})
	}
	for _, p := range params {
		switch p.Parameter {
		case ParamOSName:
			p.Values, p.Limits = osNames, nil
		case ParamOSVersion:
			p.Values, p.Limits = nil, osLimits
		}
		if p.Constraint() == ConstraintRegexp {
			m, err := compileRule(p.Expression)
			if err != nil {
				return VMRules{}, fmt.Errorf("catalog: stored expression of %s: %w", p.Parameter, err)
			}
			r.matchers[p.Parameter] = m
		}
		r.Params = append(r.Params, p)
	}
	slices.SortFunc(r.Params, func(a, b Param) int { return strings.Compare(a.Parameter, b.Parameter) })
	return r, nil
}

// Param returns the rule of a parameter (false when the operator removed
// it: then nothing is enforced for it).
func (r VMRules) Param(name string) (Param, bool) {
	for _, p := range r.Params {
		if p.Parameter == name {
			return p, true
		}
	}
	return Param{}, false
}

// mandatory reports whether p is mandatory for osName.
func (p Param) mandatoryFor(osName string) bool {
	m := p.Mandatory
	for _, l := range p.Limits {
		if l.OSName == osName && l.Mandatory != nil {
			m = *l.Mandatory
		}
	}
	return m
}

// rangeFor returns p's range for osName, and whether an override applies.
func (p Param) rangeFor(osName string) (lo, hi int64, override bool) {
	lo, hi = p.Min, p.Max
	for _, l := range p.Limits {
		if l.OSName != osName || osName == "" {
			continue
		}
		if l.Min != nil {
			lo, override = *l.Min, true
		}
		if l.Max != nil {
			hi, override = *l.Max, true
		}
	}
	return lo, hi, override
}

func required(field string) error { return errs.Invalid(field, "is required") }

// checkRange checks an integer parameter; 0 is "not given".
func (r VMRules) checkRange(name, osName string, v int64) error {
	p, ok := r.Param(name)
	if !ok {
		if v < 0 {
			return errs.Invalid(name, "must not be negative")
		}
		return nil
	}
	if v == 0 {
		if p.mandatoryFor(osName) {
			return required(name)
		}
		return nil
	}
	lo, hi, override := p.rangeFor(osName)
	if v < lo || v > hi {
		if override {
			return errs.Invalidf(name, "must be between %d and %d for %s", lo, hi, osName)
		}
		return errs.Invalidf(name, "must be between %d and %d", lo, hi)
	}
	return nil
}

// checkString checks a regexp parameter; "" is "not given".
func (r VMRules) checkString(name, osName, v string) error {
	p, ok := r.Param(name)
	if !ok {
		return nil
	}
	if v == "" {
		if p.mandatoryFor(osName) {
			return required(name)
		}
		return nil
	}
	if m := r.matchers[name]; m != nil && !m.match(v) {
		return errs.Invalid(name, explain(p.Expression))
	}
	return nil
}

// checkOS checks os_name and os_version against the catalogue.
func (r VMRules) checkOS(in VMSpec) error {
	if p, ok := r.Param(ParamOSName); ok {
		switch {
		case in.OSName == "":
			if p.mandatoryFor("") {
				return required(ParamOSName)
			}
		case r.versions[in.OSName] == nil:
			return errs.Invalidf(ParamOSName, "must be one of: %s", strings.Join(p.Values, ", "))
		}
	}
	if p, ok := r.Param(ParamOSVersion); ok {
		switch {
		case in.OSVersion == "":
			if p.mandatoryFor(in.OSName) {
				return required(ParamOSVersion)
			}
		case in.OSName == "":
			return errs.Invalid(ParamOSName, "is required with os_version")
		case !slices.Contains(r.versions[in.OSName], in.OSVersion):
			vs := r.versions[in.OSName]
			if len(vs) == 0 {
				return errs.Invalidf(ParamOSName, "%q has no published image", in.OSName)
			}
			return errs.Invalidf(ParamOSVersion, "must be one of the published versions of %s: %s", in.OSName, strings.Join(vs, ", "))
		}
	}
	return nil
}

// CheckCreate checks a VM creation against every rule, in served order,
// and returns the first failure (an Invalid error naming the wire field:
// disks, name, os_name, os_version, password, ram, username or vcpu).
func (r VMRules) CheckCreate(in VMSpec) error {
	if !in.FromSource {
		if err := r.checkOS(in); err != nil {
			return err
		}
	}
	checks := []func() error{
		func() error {
			if in.FromSource {
				return nil
			}
			return r.checkRange(ParamDisks, in.OSName, in.DiskGB)
		},
		func() error { return r.checkString(ParamName, in.OSName, in.Name) },
		func() error { return r.checkString(ParamPassword, in.OSName, in.Password) },
		func() error { return r.checkRange(ParamRAM, in.OSName, in.RAMMB) },
		func() error { return r.checkString(ParamUsername, in.OSName, in.Username) },
		func() error { return r.checkRange(ParamVCPU, in.OSName, in.VCPU) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// CheckResize checks new vcpu and ram values (MB) of a VM running osName;
// 0 means "not changed".
func (r VMRules) CheckResize(osName string, vcpu, ramMB int64) error {
	if vcpu != 0 {
		if err := r.checkRange(ParamVCPU, osName, vcpu); err != nil {
			return err
		}
	}
	if ramMB != 0 {
		if err := r.checkRange(ParamRAM, osName, ramMB); err != nil {
			return err
		}
	}
	return nil
}

// CheckPassword checks a new VM password (change password): it is always
// required, and must satisfy the password rule.
func (r VMRules) CheckPassword(pw string) error {
	if pw == "" {
		return required(ParamPassword)
	}
	return r.checkString(ParamPassword, "", pw)
}

// CheckUsername checks a username for a VM running osName (required
// unless the rule says otherwise for that OS: not for windows).
func (r VMRules) CheckUsername(osName, u string) error {
	return r.checkString(ParamUsername, osName, u)
}

// Versions returns the published versions of an image ("" none).
func (r VMRules) Versions(osName string) []string { return r.versions[osName] }

// explanations are the plain-language forms of the seed's expressions;
// other expressions are quoted.
var explanations = map[string]string{
	`^[0-9a-zA-Z][-0-9a-zA-Z]{2,}[0-9a-zA-Z]$`: "must be at least 4 characters of letters, digits and hyphens, " +
		"starting and ending with a letter or digit",
	`^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,}$`: "must be at least 8 characters with a lower-case letter, " +
		"an upper-case letter and a digit",
	`^(?=.{1,30}$)[a-zA-Z_][0-9a-zA-Z_-]*$`: "must be 1 to 30 characters of letters, digits, '_' and '-', " +
		"starting with a letter or '_'",
}

func explain(expr string) string {
	if e, ok := explanations[expr]; ok {
		return e + " (" + expr + ")"
	}
	return "must match " + expr
}

// matcher checks a rule expression: all its parts must match.
type matcher struct{ all []*regexp.Regexp }

func (m *matcher) match(s string) bool {
	for _, re := range m.all {
		if !re.MatchString(s) {
			return false
		}
	}
	return true
}

// compileRule compiles a rule expression: with RE2 when it can, otherwise
// as ^(?=A)(?=B)…R (leading look-aheads), the conjunction of ^(?:A),
// ^(?:B), … and ^(?:R). Each look-ahead at the start is tried at position
// 0, like R, so the conjunction accepts exactly the strings the original
// expression accepts.
func compileRule(expr string) (*matcher, error) {
	re, err := regexp.Compile(expr)
	if err == nil {
		return &matcher{all: []*regexp.Regexp{re}}, nil
	}
	rest, ok := strings.CutPrefix(expr, "^")
	if !ok || !strings.HasPrefix(rest, "(?=") {
		return nil, fmt.Errorf("not an RE2 expression, nor ^ followed by look-aheads: %w", err)
	}
	var parts []string
	for strings.HasPrefix(rest, "(?=") {
		end := closingParen(rest)
		if end < 0 {
			return nil, fmt.Errorf("unbalanced look-ahead in %q", expr)
		}
		parts = append(parts, rest[3:end])
		rest = rest[end+1:]
	}
	parts = append(parts, rest)
	m := &matcher{}
	for _, p := range parts {
		re, err := regexp.Compile("^(?:" + p + ")")
		if err != nil {
			return nil, fmt.Errorf("only look-aheads at the start are supported: %w", err)
		}
		m.all = append(m.all, re)
	}
	return m, nil
}

// closingParen returns the index of the parenthesis closing the group that
// opens s, skipping escapes and character classes; -1 if unbalanced.
func closingParen(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			// A class: a leading ^ and a leading ] are literal.
			j := i + 1
			if j < len(s) && s[j] == '^' {
				j++
			}
			if j < len(s) && s[j] == ']' {
				j++
			}
			for ; j < len(s) && s[j] != ']'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
