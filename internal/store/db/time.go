package db

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
)

// TimeLayout is how SQLite stores times: fixed width and UTC, so text order
// is time order and comparisons in SQL work.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Time scans a timestamp from either database (time.Time from PostgreSQL,
// text from SQLite). Times are kept at microsecond precision, the finest both
// databases hold.
type Time struct{ time.Time }

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		t.Time = v.UTC()
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	case nil:
		return fmt.Errorf("db: NULL time; use NullTime")
	}
	return fmt.Errorf("db: cannot scan %T into a time", src)
}

func (t *Time) parse(s string) error {
	v, err := time.Parse(TimeLayout, s)
	if err != nil {
		v, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return fmt.Errorf("db: bad time %q: %w", s, err)
	}
	t.Time = v.UTC()
	return nil
}

// NullTime scans a nullable timestamp.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(src any) error {
	if src == nil {
		n.Time, n.Valid = time.Time{}, false
		return nil
	}
	var t Time
	if err := t.Scan(src); err != nil {
		return err
	}
	n.Time, n.Valid = t.Time, true
	return nil
}

// Ptr returns the time or nil.
func (n NullTime) Ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}

// Value implements driver.Valuer so a NullTime can be passed back as an
// argument.
func (n NullTime) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return n.Time, nil
}

// TimePtr turns an optional time into an argument (nil for NULL).
func TimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Micro truncates t to what the databases store, so values compare equal
// after a round trip (clock.Micro, which domain code uses).
func Micro(t time.Time) time.Time { return clock.Micro(t) }
