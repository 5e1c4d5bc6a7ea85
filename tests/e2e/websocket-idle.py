#!/usr/bin/env python3
"""Opens a WebSocket-style upgraded connection (TLS, SNI HOST) to each PATH through nginx on
127.0.0.1:PORT, leaves all of them idle for SECONDS, then sends a line on each. Prints one line
per path: "PATH STATUS echo" when the line came back, "PATH STATUS closed" when the connection
was gone. Used by scenario-apply.sh: python3 websocket-idle.py PORT HOST PATH... SECONDS"""
import socket
import ssl
import sys
import time


def upgrade(port, host, path):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the site's placeholder certificate
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn = ctx.wrap_socket(raw, server_hostname=host)
    conn.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(1024)
        if not chunk:
            break
        head += chunk
    status = head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/") else "none"
    return conn, status


def echoes(conn):
    try:
        conn.sendall(b"ping\n")
        return conn.recv(100).startswith(b"echo ping")
    except OSError:
        return False


def main():
    port, host, *paths, seconds = sys.argv[1:]
    opened = [(path, *upgrade(int(port), host, path)) for path in paths]
    time.sleep(float(seconds))
    for path, conn, status in opened:
        print(f"{path} {status} {'echo' if echoes(conn) else 'closed'}")


main()
