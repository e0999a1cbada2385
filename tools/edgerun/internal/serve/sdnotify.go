package serve

import (
	"fmt"
	"net"
	"os"
)

// Notify sends state (e.g. "READY=1", "STOPPING=1") to the service
// manager, as sd_notify(3) does: one datagram on the Unix socket
// $NOTIFY_SOCKET names ("@" first for an abstract one). Without
// $NOTIFY_SOCKET (not started by systemd with Type=notify) it does
// nothing and reports false. The unit in boards/systemd is Type=notify:
// edgerun serve sends READY=1 once it listens and its models have
// loaded, STOPPING=1 when it starts draining.
func Notify(state string) (sent bool, err error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return false, nil
	}
	if path[0] != '/' && path[0] != '@' {
		return false, fmt.Errorf("serve: NOTIFY_SOCKET %q is neither a path nor an abstract socket", path)
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("serve: sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("serve: sd_notify %s: %w", state, err)
	}
	return true, nil
}
