//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// saveAsOtherUserEnv makes the test binary, run again as another user by
// TestOthersFileIsNotReplaced, try the save and report through its exit
// status.
const saveAsOtherUserEnv = "WSGIDECK_ATOMICFILE_SAVE_AS_OTHER"

func TestMain(m *testing.M) {
	if path := os.Getenv(saveAsOtherUserEnv); path != "" {
		err := WriteFile(path, []byte("changed by another user\n"), 0o644)
		os.Stderr.WriteString(errString(err))
		switch {
		case errors.Is(err, ErrReadOnly):
			os.Exit(3)
		case err != nil:
			os.Exit(4)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func errString(err error) string {
	if err == nil {
		return "saved"
	}
	return err.Error()
}

// Someone else's file that this user may not write, in a folder this user
// may write: the rename of an atomic save would replace it (only the
// folder's permission counts for a rename), so the save is refused. Root
// runs the test binary again as nobody to see it from that side.
func TestOthersFileIsNotReplaced(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to make a file owned by another user (CI runs as root)")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		// nobody must reach the folder and write in it.
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte("root's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// go test builds the binary in a folder only root may enter: nobody
	// runs a copy.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "atomicfile.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), saveAsOtherUserEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("saving root's 0644 file as nobody: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "read-only for this user") || !strings.Contains(string(out), "owner root") {
		t.Errorf("the error does not say whose file it is: %s", out)
	}
	if b, _ := os.ReadFile(path); string(b) != "root's\n" {
		t.Errorf("root's file changed: %q", b)
	}
}
