package simstep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
)

// State is where a simulator keeps its fake cloud: JSON documents by
// (kind, id) inside a space (one per simulator). Kept in the database, it
// is one cloud for every node and survives restarts, like a real
// hypervisor; Memory keeps it in the process, for unit tests.
type State interface {
	// Update runs fn on the documents of space, alone: no other Update of
	// the same space, on any node, runs between fn's reads and its
	// writes. fn's writes are kept only if it returns nil. fn may run
	// more than once (a transient database conflict), so it must have no
	// other effects. Update never joins a caller's transaction.
	Update(ctx context.Context, space string, fn func(Docs) error) error
}

// Docs are the documents of one space, inside an Update.
type Docs interface {
	Get(kind, id string) (doc []byte, ok bool, err error)
	Put(kind, id string, doc []byte) error
	Delete(kind, id string) error
	// List returns every document of kind, by id.
	List(kind string) (map[string][]byte, error)
}

// Memory is a State in the process's memory. The zero value is ready to
// use.
type Memory struct {
	mu     sync.Mutex
	spaces map[string]map[string]map[string][]byte // space → kind → id → doc
}

var _ State = (*Memory)(nil)

// Update implements State: fn's writes are kept aside and applied if it
// succeeds (so a step costs its own reads and writes, not the space's size).
func (m *Memory) Update(ctx context.Context, space string, fn func(Docs) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spaces == nil {
		m.spaces = map[string]map[string]map[string][]byte{}
	}
	if m.spaces[space] == nil {
		m.spaces[space] = map[string]map[string][]byte{}
	}
	work := &memDocs{base: m.spaces[space], changes: map[docKey][]byte{}}
	if err := fn(work); err != nil {
		return err
	}
	for k, doc := range work.changes {
		switch {
		case doc != nil:
			if work.base[k.kind] == nil {
				work.base[k.kind] = map[string][]byte{}
			}
			work.base[k.kind][k.id] = doc
		default:
			delete(work.base[k.kind], k.id)
		}
	}
	return nil
}

type docKey struct{ kind, id string }

// memDocs reads through its changes (nil: deleted) to the space.
type memDocs struct {
	base    map[string]map[string][]byte
	changes map[docKey][]byte
}

func (d *memDocs) Get(kind, id string) ([]byte, bool, error) {
	if doc, ok := d.changes[docKey{kind, id}]; ok {
		return doc, doc != nil, nil
	}
	doc, ok := d.base[kind][id]
	return doc, ok, nil
}

func (d *memDocs) Put(kind, id string, doc []byte) error {
	if doc == nil {
		doc = []byte{}
	}
	d.changes[docKey{kind, id}] = doc
	return nil
}

func (d *memDocs) Delete(kind, id string) error {
	d.changes[docKey{kind, id}] = nil
	return nil
}

func (d *memDocs) List(kind string) (map[string][]byte, error) {
	out := maps.Clone(d.base[kind])
	if out == nil {
		out = map[string][]byte{}
	}
	for k, doc := range d.changes {
		switch {
		case k.kind != kind:
		case doc != nil:
			out[k.id] = doc
		default:
			delete(out, k.id)
		}
	}
	return out, nil
}

// Space is one simulator's part of a State; with no State (the zero
// value) it keeps its documents in memory of its own.
type Space struct {
	name  string
	state State
	mem   Memory
}

// NewSpace returns the space name of st; st nil keeps it in memory.
func NewSpace(name string, st State) Space { return Space{name: name, state: st} }

// Update runs fn alone on the space's documents (State.Update).
func (s *Space) Update(ctx context.Context, fn func(Docs) error) error {
	if s.state == nil {
		return s.mem.Update(ctx, s.name, fn)
	}
	return s.state.Update(ctx, s.name, fn)
}

// View runs fn on the space's documents; its writes are discarded. It is
// for the simulators' inspection methods.
func (s *Space) View(ctx context.Context, fn func(Docs) error) error {
	err := s.Update(ctx, func(d Docs) error {
		if err := fn(d); err != nil {
			return err
		}
		return errView // nothing to keep
	})
	if err == errView {
		return nil
	}
	return err
}

var errView = errors.New("simstep: view") // rolls a View back

// Get decodes the document (kind, id) into a T.
func Get[T any](d Docs, kind, id string) (T, bool, error) {
	var v T
	doc, ok, err := d.Get(kind, id)
	if err != nil || !ok {
		return v, false, err
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, false, fmt.Errorf("sim: %s %s: %w", kind, id, err)
	}
	return v, true, nil
}

// Put encodes v as the document (kind, id).
func Put(d Docs, kind, id string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sim: %s %s: %w", kind, id, err)
	}
	return d.Put(kind, id, doc)
}

// List decodes every document of kind, by id.
func List[T any](d Docs, kind string) (map[string]T, error) {
	docs, err := d.List(kind)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(docs))
	for id, doc := range docs {
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("sim: %s %s: %w", kind, id, err)
		}
		out[id] = v
	}
	return out, nil
}
