#!/usr/bin/env python3
"""forward.py HOST PORT: joins the connection on its stdin to a new TCP connection to HOST:PORT.

QEMU's user-mode network (boot.sh --server) runs it for every connection the guest opens to the
guestfwd address. libslirp passes the guest's side as one socket on stdin, stdout and stderr,
so nothing may be printed: a failure to connect just closes the guest's connection, which the
guest sees as a refused or reset connection.
"""
import selectors
import socket
import sys


def main() -> int:
    if len(sys.argv) != 3:
        return 2
    guest = socket.socket(fileno=0)
    try:
        upstream = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    except OSError:
        return 1
    upstream.settimeout(None)
    peer = {guest: upstream, upstream: guest}
    sel = selectors.DefaultSelector()
    sel.register(guest, selectors.EVENT_READ)
    sel.register(upstream, selectors.EVENT_READ)
    open_directions = 2
    try:
        while open_directions:
            for key, _ in sel.select():
                src = key.fileobj
                data = src.recv(65536)
                if data:
                    peer[src].sendall(data)
                    continue
                # One direction is done: pass the end of data on, keep the other direction.
                sel.unregister(src)
                open_directions -= 1
                try:
                    peer[src].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
    except OSError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
