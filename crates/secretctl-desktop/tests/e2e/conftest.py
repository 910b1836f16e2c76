"""Drives the real secretctl-desktop binary in a real WebKitGTK web view, under Xvfb, through
WebDriver: tauri-driver in front of Debian's WebKitWebDriver, Selenium as the client.

Run through scripts/test, or by hand from the repository root:

    cargo build -p secretctl -p secretctl-desktop
    xvfb-run -a python3 -m pytest crates/secretctl-desktop/tests/e2e -v

Environment: SECRETCTL_DESKTOP_BIN and SECRETCTL_BIN name the binaries (default: target/debug),
DESKTOP_SCREENSHOT_DIR receives the screenshots (default: target/desktop-screenshots).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[4]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(env_name: str, name: str) -> str:
    path = Path(os.environ.get(env_name, ROOT / "target" / "debug" / name))
    if not path.exists():
        pytest.exit(f"{path} is missing: run cargo build -p secretctl -p secretctl-desktop", 2)
    return str(path)


class Desktop:
    """One tauri-driver, and the app sessions started through it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.vault_dir = workdir / "vault"
        self.config_dir = workdir / "config"
        self.bin = binary("SECRETCTL_DESKTOP_BIN", "secretctl-desktop")
        self.cli_bin = binary("SECRETCTL_BIN", "secretctl")
        self.shots = Path(os.environ.get("DESKTOP_SCREENSHOT_DIR", ROOT / "target" / "desktop-screenshots"))
        self.shots.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        native = free_port()
        self.log = open(workdir / "tauri-driver.log", "wb")
        self.driver_proc = subprocess.Popen(
            ["tauri-driver", "--port", str(self.port), "--native-port", str(native)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SECRETCTL_HOME": str(workdir / "not-this-one")},
        )
        # tauri-driver listens at once; WebKitWebDriver behind it takes a moment.
        deadline = time.time() + 30
        for port in (self.port, native):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline or self.driver_proc.poll() is not None:
                        raise RuntimeError(f"tauri-driver did not start; see {workdir}/tauri-driver.log")
                    time.sleep(0.2)
        self.driver = None

    def start(self, *extra: str):
        """Starts the app (quitting a running one first) and returns the WebDriver."""
        self.quit()
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability(
            "tauri:options",
            {
                "application": self.bin,
                "args": [
                    "--vault-dir", str(self.vault_dir),
                    "--config-dir", str(self.config_dir),
                    "--clipboard-clear-secs", "4",
                    *extra,
                ],
            },
        )
        last = None
        for _ in range(3):
            try:
                connection = RemoteConnection(
                    client_config=ClientConfig(remote_server_addr=f"http://127.0.0.1:{self.port}")
                )
                self.driver = webdriver.Remote(command_executor=connection, options=options)
                break
            except WebDriverException as e:
                last = e
                time.sleep(1)
        else:
            raise last
        self.driver.implicitly_wait(0)
        self.wait_for("#root > *")
        return self.driver

    def quit(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except WebDriverException:
                pass
            self.driver = None
            time.sleep(0.5)

    def close(self):
        self.quit()
        self.driver_proc.terminate()
        try:
            self.driver_proc.wait(10)
        except subprocess.TimeoutExpired:
            self.driver_proc.kill()
        self.log.close()

    # -- helpers ---------------------------------------------------------------------------

    def wait_for(self, css: str, timeout: float = 15):
        return WebDriverWait(self.driver, timeout).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def wait_visible(self, css: str, timeout: float = 15):
        return WebDriverWait(self.driver, timeout).until(
            EC.visibility_of_element_located((By.CSS_SELECTOR, css))
        )

    def wait_until(self, predicate, timeout: float = 15, message: str = ""):
        return WebDriverWait(
            self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]
        ).until(lambda d: predicate(d), message)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css: str):
        # The front end re-renders whole regions; an element found just before a re-render goes
        # stale, so find it again.
        for attempt in range(5):
            try:
                self.wait_visible(css).click()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def type(self, css: str, text: str, clear: bool = True):
        el = self.wait_visible(css)
        if clear:
            el.clear()
        el.send_keys(text)
        return el

    def select(self, css: str, value: str):
        from selenium.webdriver.support.ui import Select

        Select(self.wait_visible(css)).select_by_value(value)

    def shot(self, name: str, top: bool = True):
        """Saves a screenshot for the docs: toast hidden, panes scrolled to the top."""
        self.driver.execute_script(
            "document.getElementById('toast')?.classList.remove('show');"
            + ("document.querySelectorAll('.detail, .page, .list').forEach(e => e.scrollTop = 0);" if top else "")
        )
        time.sleep(0.4)
        self.driver.save_screenshot(str(self.shots / f"desktop-{name}.png"))

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True, password: bool = True
    ):
        """Runs the real CLI on the app's vault; `password=False` leaves it only the agent."""
        env = {
            **os.environ,
            "SECRETCTL_HOME": str(self.vault_dir),
            "NO_COLOR": "1",
        }
        env.pop("SECRETCTL_PASSWORD", None)
        env.pop("SECRETCTL_PASSWORD_FILE", None)
        if password:
            env["SECRETCTL_PASSWORD"] = PASSWORD
        return subprocess.run(
            [self.cli_bin, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=check,
            timeout=60,
        )


@pytest.fixture(scope="session")
def desktop():
    if shutil.which("tauri-driver") is None:
        pytest.exit("tauri-driver is missing: cargo install tauri-driver --locked", 2)
    if not os.environ.get("DISPLAY"):
        pytest.exit("no DISPLAY: run under xvfb-run -a", 2)
    with tempfile.TemporaryDirectory(prefix="secretctl-desktop-e2e-") as tmp:
        d = Desktop(Path(tmp))
        try:
            yield d
        finally:
            d.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, saves what the window showed (failed-TEST.png beside the screenshots)."""
    outcome = yield
    report = outcome.get_result()
    d = item.funcargs.get("desktop") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and d is not None and d.driver is not None:
        try:
            d.driver.save_screenshot(str(d.shots / f"failed-{item.name}.png"))
        except WebDriverException:
            pass
