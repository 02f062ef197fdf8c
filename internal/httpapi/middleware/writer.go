package middleware

import "net/http"

// statusWriter records the status and byte count of a response. Unwrap lets
// http.ResponseController reach the underlying writer (for deadlines,
// hijacking, full duplex); Flush is implemented directly because much code
// still type-asserts http.Flusher.
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until the final header is written
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx (other than 101) are informational; the final status comes later.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	// Ignore ErrNotSupported, like a plain Flush on a non-flusher would.
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status returns the status sent, 200 if the handler wrote nothing (which is
// what net/http sends in that case).
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// wroteHeader reports whether the status line has gone out.
func (w *statusWriter) wroteHeader() bool { return w.status != 0 }
