"""The web face refuses cross-site requests (Host, Origin/Referer, Sec-Fetch-Site, JSON body,
per-session token) and, bound beyond the loopback interface, asks for a password.  The
server runs with a recording terminal: a refused request must never reach the board."""
import base64
import http.client
import json
import re
import time

import pytest

from host_sim.web.server import make_server, serve_in_thread


class Recording:
    """The part of host_sim.web.terminal.Terminal the POST /api/key control uses."""
    closing = False

    def __init__(self):
        self.keys = []

    def press_key(self, key):
        self.keys.append(key)

    def state(self):
        return {"keys": len(self.keys)}


@pytest.fixture
def face():
    term = Recording()
    srv = serve_in_thread(term, 0)
    yield term, srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def request(port, method, path, body=None, headers=None, host=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": host or "127.0.0.1:%d" % port}
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.status, dict(r.getheaders()), r.read()
    c.close()
    return out


def session(port, headers=None):
    """(cookie header, token) as the page gets them: GET / sets the cookie, the meta tag has the token."""
    status, hdrs, page = request(port, "GET", "/", headers=headers)
    assert status == 200
    cookie = hdrs["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in hdrs["Set-Cookie"] and "SameSite=Strict" in hdrs["Set-Cookie"]
    token = re.search(rb'<meta name="smartpos-token" content="([0-9a-f]{64})">', page).group(1).decode()
    return cookie, token


def post_key(port, key, cookie=None, token=None, extra=None, ctype="application/json"):
    h = {"Content-Type": ctype}
    if cookie:
        h["Cookie"] = cookie
    if token:
        h["X-Smartpos-Token"] = token
    h.update(extra or {})
    return request(port, "POST", "/api/key", {"key": key}, h)


def test_same_origin_post_with_the_session_token_is_served(face):
    term, port = face
    cookie, token = session(port)
    status, _, body = post_key(port, "5", cookie, token, {"Origin": "http://127.0.0.1:%d" % port,
                                                          "Sec-Fetch-Site": "same-origin"})
    assert status == 200 and json.loads(body)["ok"] and term.keys == ["5"]
    # a script gets the same kind of token from /api/session
    status, hdrs, body = request(port, "GET", "/api/session", headers={"Cookie": cookie})
    assert status == 200 and json.loads(body)["token"] == token and "Set-Cookie" not in hdrs


def test_cross_site_posts_are_refused_and_never_reach_the_board(face):
    term, port = face
    cookie, token = session(port)
    own = "http://127.0.0.1:%d" % port
    cases = [
        ({"Origin": "http://evil.example"}, 403),                      # another site's page
        ({"Origin": "null"}, 403),                                     # sandboxed frame, file://
        ({"Origin": "http://127.0.0.1:%d" % (port + 1)}, 403),         # another local port
        ({"Referer": "http://evil.example/pay"}, 403),                 # no Origin, foreign Referer
        ({"Origin": own, "Sec-Fetch-Site": "cross-site"}, 403),
    ]
    for extra, want in cases:
        status, _, body = post_key(port, "9", cookie, token, extra)
        assert status == want, (extra, status, body)
        assert b"cross-site request refused" in body
    # a form post (what a cross-site page can send without asking): not JSON
    status, _, body = post_key(port, "9", cookie, token, {"Origin": own}, ctype="text/plain")
    assert status == 415
    # no token, a wrong token, a token of another session
    other_cookie, other_token = session(port)
    for c, tk in ((cookie, None), (cookie, "0" * 64), (cookie, other_token), (None, token)):
        status, _, body = post_key(port, "9", c, tk, {"Origin": own})
        assert status == 403 and b"session token" in body, (c, tk)
    assert term.keys == []


def test_a_rebinding_host_name_is_refused_even_for_reads(face):
    term, port = face
    status, _, body = request(port, "GET", "/api/state", host="evil.example:%d" % port)
    assert status == 421
    status, _, _ = request(port, "GET", "/api/state", host="localhost:%d" % port)
    assert status == 200


def test_bad_content_length_is_refused(face):
    term, port = face
    cookie, token = session(port)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest("POST", "/api/key")
    for k, v in (("Content-Type", "application/json"), ("Cookie", cookie), ("X-Smartpos-Token", token),
                 ("Content-Length", "-5")):
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    assert r.status == 409 and b"negative Content-Length" in r.read()
    c.close()
    assert term.keys == []


def test_beyond_loopback_the_face_asks_for_a_password():
    with pytest.raises(ValueError, match="give it a password"):
        make_server(Recording(), 0, host="0.0.0.0")
    term = Recording()
    srv = serve_in_thread(term, 0, host="0.0.0.0", password="open sesame")
    port = srv.server_address[1]
    try:
        status, hdrs, _ = request(port, "GET", "/")
        assert status == 401 and hdrs["WWW-Authenticate"].startswith('Basic realm="smartpos terminal face"')
        bad = {"Authorization": "Basic " + base64.b64encode(b"cashier:1234").decode()}
        assert request(port, "GET", "/api/state", headers=bad)[0] == 401
        auth = {"Authorization": "Basic " + base64.b64encode(b"anyone:open sesame").decode()}
        assert request(port, "POST", "/api/key", {"key": "1"}, {"Content-Type": "application/json"})[0] == 401
        cookie, token = session(port, headers=auth)
        status, _, _ = post_key(port, "7", cookie, token, dict(auth, Origin="http://127.0.0.1:%d" % port))
        assert status == 200 and term.keys == ["7"]
        # the password does not stand in for the token
        status, _, _ = post_key(port, "8", cookie, None, dict(auth, Origin="http://127.0.0.1:%d" % port))
        assert status == 403 and term.keys == ["7"]
    finally:
        srv.shutdown()
        srv.server_close()


EVIL_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" action="http://127.0.0.1:%(port)d/api/key" enctype="text/plain">
<input name='{"key": "1", "x": "' value='"}'></form>
<script>
async function attack() {
  const h = "http://127.0.0.1:%(port)d";
  const res = [];
  for (const init of [
      {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"},
       body: '{"key": "2"}'},
      {method: "POST", mode: "cors", credentials: "include", headers: {"Content-Type": "application/json"},
       body: '{"key": "3"}'}]) {
    try { const r = await fetch(h + "/api/key", init); res.push(r.type + ":" + r.status); }
    catch (e) { res.push("blocked"); }
  }
  document.title = res.join(",");
}
</script></body></html>"""


def test_a_cross_site_page_in_chromium_cannot_press_keys(face):
    """Chromium on the face (a session cookie), then on another site's page that posts to the
    face by fetch (simple and preflighted) and by a form: no key reaches the board."""
    import os
    import shutil
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright
    term, port = face
    page_html = (EVIL_PAGE % {"port": port}).encode()

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page_html)))
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *a):
            pass

    evil = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            pg = browser.new_page()
            pg.goto("http://127.0.0.1:%d/" % port)        # the cashier has the face open
            pg.wait_for_function("document.querySelector('meta[name=smartpos-token]').content.length == 64")
            # the page's own control goes through (the face's JavaScript and its token)
            pg.evaluate("post('/api/key', {key: 'CANCEL'})")
            pg.wait_for_function("document.getElementById('message').textContent === ''")
            deadline = time.monotonic() + 10
            while term.keys != ["CANCEL"] and time.monotonic() < deadline:
                pg.wait_for_timeout(50)
            assert term.keys == ["CANCEL"]
            ev = browser.new_page()
            ev.goto("http://localhost:%d/" % evil.server_address[1])   # another site
            ev.evaluate("attack()")
            ev.wait_for_function("document.title.length > 0")
            with ev.expect_navigation():
                ev.evaluate("document.getElementById('f').submit()")
            browser.close()
    finally:
        evil.shutdown()
        evil.server_close()
    assert term.keys == ["CANCEL"]          # nothing from the other site
