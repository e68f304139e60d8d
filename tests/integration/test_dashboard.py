"""The dashboard's files on the WebSocket port (GET /dashboard, /dashboard/NAME): served from
core/server/www (or an installation's share/wampd/www) with their types, nothing outside that
directory whatever the path says, and the last reload's status line in /api/stats. The page
itself runs in Chromium in tests/interop/dashboard_test.js."""

import json
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, WampdProcess, free_port, default_config

WWW = SOURCE_DIR / "core" / "server" / "www"


def http(server, path, method="GET", headers=None):
    """(status, content type, body) of one request."""
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def raw_request(server, target):
    """(status, whole response) for a request line sent exactly as given (no client-side
    normalisation of dots or escapes)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        # Connection: close, or the kept-alive connection would hold the read for 5 s.
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1)), answer


def token_of(server):
    match = re.search(r"backend token for wampctl written to (\S+)", server.log())
    assert match, server.log()
    with open(match.group(1)) as cookie:
        return cookie.read().strip()


def stats(server):
    status, _, body = http(server, "/api/stats",
                           headers={"Authorization": f"Bearer {token_of(server)}"})
    assert status == 200, body
    return json.loads(body)


@pytest.mark.parametrize("path, name, content_type", [
    ("/dashboard", "index.html", "text/html; charset=utf-8"),
    ("/dashboard/", "index.html", "text/html; charset=utf-8"),
    ("/dashboard/index.html?x=1", "index.html", "text/html; charset=utf-8"),
    ("/dashboard/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
    ("/dashboard/wamp2.js", "wamp2.js", "text/javascript; charset=utf-8"),
    ("/dashboard/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
])
def test_the_page_and_its_files_are_public(wampd, path, name, content_type):
    status, served_type, body = http(wampd, path)
    assert (status, served_type) == (200, content_type)
    assert body == (WWW / name).read_bytes()


def test_head_missing_files_and_other_methods(wampd):
    status, content_type, body = http(wampd, "/dashboard", method="HEAD")
    assert (status, content_type, body) == (200, "text/html; charset=utf-8", b"")
    assert http(wampd, "/dashboard/missing.js")[0] == 404
    assert http(wampd, "/dashboard", method="POST")[0] == 405
    # Only /dashboard and what is under it; the rest keeps its answer.
    assert http(wampd, "/dashboards")[0] == 426


# core/server/www/../CMakeLists.txt exists: a server that followed the dots would serve it.
@pytest.mark.parametrize("target", [
    b"/dashboard/../CMakeLists.txt",
    b"/dashboard/..%2fCMakeLists.txt",
    b"/dashboard/%2e%2e/CMakeLists.txt",
    b"/dashboard/%2e%2e%2fCMakeLists.txt",
    b"/dashboard/%2E%2E%2F%2E%2E%2F..%2Fconfig%2Fwampd.yml",
    b"/dashboard/../../../../etc/passwd",
    b"/dashboard/%2fetc%2fpasswd",
    b"/dashboard//etc/passwd",
    b"/dashboard/index.html%00.png",
    b"/dashboard/index.html\x00.png",
    b"/dashboard/.",
    b"/dashboard/..",
    b"/dashboard/%",
    b"/dashboard/%zz",
])
def test_nothing_outside_the_directory(wampd, target):
    status, answer = raw_request(wampd, target)
    assert status in (400, 404), answer[:300]
    assert b"add_library" not in answer and b"root:" not in answer and b"server:" not in answer
    assert http(wampd, "/health")[0] == 200


def test_wampd_www_dir_names_another_directory(wampd_factory, tmp_path, monkeypatch):
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<p>elsewhere</p>")
    monkeypatch.setenv("WAMPD_WWW_DIR", str(www))
    server = wampd_factory(config=default_config())
    assert http(server, "/dashboard")[2] == b"<p>elsewhere</p>"
    assert f"files from {www}" in server.log()


def test_api_stats_has_the_last_reload_status_line(wampd):
    assert stats(wampd)["last_reload"] is None
    wampd.signal(signal.SIGHUP)
    wampd.wait_for_log("generation 2 serving")
    last = stats(wampd)["last_reload"]
    assert last["ok"] is True
    assert re.match(r"reload \(.*\): generation 2 serving \d+ routes", last["status"]), last

    wampd.config_path.write_text("server: [\n")
    wampd.signal(signal.SIGHUP)
    wampd.wait_for_log("keeps serving")
    last = stats(wampd)["last_reload"]
    assert last["ok"] is False
    assert "generation 2 keeps serving" in last["status"] and str(wampd.config_path) in \
        last["status"], last


def test_an_installed_wampd_serves_its_share_wampd_www(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BUILD_DIR), "--prefix", str(prefix)], check=True,
                   capture_output=True, timeout=120)
    installed = prefix / "share" / "wampd" / "www"
    for name in ("index.html", "dashboard.js", "wamp2.js", "dashboard.css"):
        assert (installed / name).read_bytes() == (WWW / name).read_bytes(), name
    # Marked, so the answer shows which copy was served.
    (installed / "index.html").write_text("<p>installed copy</p>")
    port = free_port()
    server = WampdProcess([str(prefix / "bin" / "wampd"), "--port", str(port)], port,
                          tmp_path / "installed.log", None)
    try:
        server.wait_ready()
        assert http(server, "/dashboard")[2] == b"<p>installed copy</p>"
        assert http(server, "/dashboard/wamp2.js")[2] == (WWW / "wamp2.js").read_bytes()
    finally:
        assert server.stop() == 0
