"""Standard-library app for tests/e2e/apps.sh: keeps its notes in SQLite (WAL) under
STATE_DIRECTORY, so they outlive a redeploy, and proves HOME, XDG_CACHE_HOME and /tmp are
writable under the unit's sandbox."""

import json
import os
import sqlite3
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB = os.path.join(os.environ["STATE_DIRECTORY"], "notes.sqlite3")


def connect():
    conn = sqlite3.connect(DB)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def writable():
    """Each directory the contract promises, written once at start."""
    places = {
        "home": os.environ["HOME"],
        "cache": os.environ["XDG_CACHE_HOME"],
        "tmp": tempfile.gettempdir(),
    }
    result = {}
    for name, path in places.items():
        try:
            with open(os.path.join(path, "notes-probe"), "w", encoding="utf-8") as f:
                f.write("ok")
            result[name] = "ok"
        except OSError as err:
            result[name] = str(err)
    return result


with connect() as c:
    c.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT NOT NULL)")
WRITABLE = writable()


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"ok": True})
        with connect() as conn:
            notes = [r[0] for r in conn.execute("SELECT body FROM notes ORDER BY rowid")]
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return self.reply(200, {
            "notes": notes,
            "journal_mode": mode,
            "db": DB,
            "release": os.path.realpath("."),
            "writable": WRITABLE,
        })

    def do_POST(self):
        body = self.path.rsplit("/", 1)[-1]
        with connect() as conn:
            conn.execute("INSERT INTO notes (body) VALUES (?)", (body,))
        return self.reply(201, {"added": body})


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
