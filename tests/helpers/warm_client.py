"""`python ARGS` through the warm server of tests/helpers/warm_python.py (its socket in
WARM_PYTHON_SOCKET): this process's streams, working directory and environment go with the
command line, and it exits with the command's status. Standard library only, so that it
starts in milliseconds."""

import json
import os
import socket
import sys


def main() -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(os.environ["WARM_PYTHON_SOCKET"])
        socket.send_fds(conn, [b"x"], [0, 1, 2])
        request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
        conn.sendall(json.dumps(request).encode())
        conn.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := conn.recv(64):
            reply += chunk
    return int(reply) if reply else 1


if __name__ == "__main__":
    sys.exit(main())
