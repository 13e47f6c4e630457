"""A read-only citizen overview in the browser, for authorised staff (`targetgroup serve`, docs/web.md).

    users.py        the users file (argon2id hashes, roles, departments)
    sessions.py     server-side sessions, CSRF tokens, the log-in lock-out
    access_log.py   who looked at whom: its own owner-only DuckDB file beside the warehouse
    overview.py     what the pages show, read from the warehouse's reader copy (read-only)
    app.py          the FastAPI application: pages, roles, security headers
    server.py       bind rules (loopback unless TLS) and the uvicorn server
    templates/      Jinja2 pages (autoescaped);  static/style.css

The application never writes the warehouse and never opens it: it reads the reader copy that
every commit publishes (targetgroup.reader), so a nightly run is never blocked.
"""
