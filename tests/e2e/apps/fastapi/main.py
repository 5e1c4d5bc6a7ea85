"""FastAPI app for tests/e2e/apps.sh: reads and writes its own PostgreSQL database through
DATABASE_URL, and reports whether it can reach another site's database (it must not)."""

import os

import psycopg
from fastapi import FastAPI
from psycopg.conninfo import conninfo_to_dict

app = FastAPI()
URL = os.environ["DATABASE_URL"]


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.post("/items/{name}")
def add(name: str):
    with psycopg.connect(URL) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS items (name text NOT NULL)")
        conn.execute("INSERT INTO items (name) VALUES (%s)", (name,))
    return {"added": name}


@app.get("/items")
def items():
    with psycopg.connect(URL) as conn:
        rows = conn.execute("SELECT name FROM items ORDER BY name").fetchall()
    return {"items": [r[0] for r in rows]}


@app.get("/whoami")
def whoami():
    with psycopg.connect(URL) as conn:
        user, db = conn.execute("SELECT current_user, current_database()").fetchone()
    return {"user": user, "database": db, "port": os.environ["PORT"]}


@app.get("/other/{database}")
def other(database: str):
    """Connects with this site's own credentials to another database: refused by PostgreSQL."""
    params = conninfo_to_dict(URL)
    params["dbname"] = database
    try:
        with psycopg.connect(**params) as conn:
            conn.execute("SELECT 1")
        return {"connected": True}
    except psycopg.Error as err:
        return {"connected": False, "error": str(err).strip()}
