// Package wiring checks a constructor's required dependencies, so that a
// service built without one fails when the app is assembled, with an error
// naming it, instead of meeting a nil at run time.
package wiring

import (
	"fmt"
	"reflect"
	"strings"
)

// Dep is a named dependency.
type Dep struct {
	Name  string
	Value any
}

// D names a dependency.
func D(name string, v any) Dep { return Dep{Name: name, Value: v} }

// Require returns an error naming every dependency of component that is
// nil (a nil interface, or an interface holding a nil pointer, func, map,
// slice or channel), or nil when all are there.
func Require(component string, deps ...Dep) error {
	var missing []string
	for _, d := range deps {
		if isNil(d.Value) {
			missing = append(missing, d.Name)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s: missing dependency %s", component, missing[0])
	}
	return fmt.Errorf("%s: missing dependencies %s", component, strings.Join(missing, ", "))
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return r.IsNil()
	}
	return false
}

// Must returns v, panicking on err: for tests and examples whose wiring is
// fixed, where a missing dependency is a bug in the test itself.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
