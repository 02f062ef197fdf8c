package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// AdminKeyFile is where the first start puts the generated provider admin
// key when standard output is not a terminal.
const AdminKeyFile = "initial-admin-key"

// announceAdminKey shows the first start's provider admin key once (dataDir
// absolute: the embedded S3 server may have changed the working
// directory). On a
// terminal it is printed; otherwise standard output is probably captured
// by a service manager or shipped to a log store, so the key is written to
// a 0600 file in the 0700 data dir and only the file's path is printed.
func announceAdminKey(w io.Writer, terminal bool, dataDir, key string) error {
	if terminal {
		_, err := fmt.Fprintf(w, "\nProvider admin API key (shown once, keep it safe):\n\n    %s\n\n", key)
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dataDir, AdminKeyFile)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nProvider admin API key (shown once): not printed, since standard output is not a terminal;\n"+
		"it is in %s (mode 0600). Store it, then delete the file.\n\n", path)
	return err
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
