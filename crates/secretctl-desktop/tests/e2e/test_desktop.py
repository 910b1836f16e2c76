"""End-to-end tests of the desktop app (SPEC §11) in the real app under Xvfb.

The tests run in file order and share one vault: each step starts from where the one before
left the app, as a user would.
"""

import json
import subprocess
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import PASSWORD

DB_PASSWORD = "pg-Secr3t-Value-4242"
NEW_PASSWORD = "a brand new master pw"


def press(d, *keys, ctrl=False):
    """Presses keys with nothing focused, as a keyboard user would for a shortcut."""
    d.driver.execute_script("document.activeElement && document.activeElement.blur()")
    chain = ActionChains(d.driver)
    if ctrl:
        chain = chain.key_down(Keys.CONTROL)
    for k in keys:
        chain = chain.send_keys(k)
    if ctrl:
        chain = chain.key_up(Keys.CONTROL)
    chain.perform()


def rows(d):
    return d.driver.execute_script(
        "return [...document.querySelectorAll('#secret-list .secret-row')].map(e => e.dataset.name)"
    )


def field_value(d, field):
    return d.find(f'#detail-fields .field[data-field="{field}"] .field-value').text


def clipboard():
    r = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True, timeout=10
    )
    return r.stdout if r.returncode == 0 else ""


def open_secret(d, name):
    """Selects a secret and waits until its detail view has loaded."""
    d.click(f'#secret-list .secret-row[data-name="{name}"]')
    d.wait_until(
        lambda _: d.driver.execute_script(
            "const n = document.getElementById('detail-name');"
            "return n !== null && n.textContent === arguments[0] && !document.getElementById('editor')",
            name,
        )
    )


def unlock(d, password=PASSWORD):
    d.type("#unlock-password", password)
    d.click("#unlock-button")


def search(d, text):
    # A space then a backspace fires the input event that clearing alone does not.
    el = d.type("#search", text or " ")
    if not text:
        el.send_keys(Keys.BACKSPACE)
    time.sleep(0.4)
    return el


def open_audit(d, **filters):
    d.click("#nav-audit")
    d.wait_visible("#audit-filters")
    # Every filter is set, so that none is left over from an earlier visit.
    for name in ("action", "source", "key", "from", "to"):
        value = filters.get(name, "")
        if name in ("action", "source"):
            d.select(f"#audit-{name}", value)
        else:
            d.find(f"#audit-{name}").clear()
            if value:
                d.type(f"#audit-{name}", value)
    d.click("#audit-apply")
    time.sleep(0.6)
    d.wait_for("#audit-page-info")


def test_01_create_vault_with_the_cli_password_rules(desktop):
    d = desktop
    d.start()
    d.wait_visible("#setup")
    d.shot("setup")
    d.type("#new-password", "short")
    d.type("#confirm-password", "short")
    d.click("#create-vault")
    d.wait_until(lambda _: "at least 8" in d.find("#setup-error").text)
    d.type("#new-password", PASSWORD)
    d.type("#confirm-password", PASSWORD + "x")
    d.click("#create-vault")
    d.wait_until(lambda _: "differ" in d.find("#setup-error").text)
    d.type("#confirm-password", PASSWORD)
    d.click("#create-vault")
    d.wait_visible("#app-main", timeout=30)
    assert (d.vault_dir / "vault.db").exists()
    # The CLI opens the vault the app created.
    assert d.cli("list").returncode == 0


def test_02_add_a_database_secret_from_its_template(desktop):
    d = desktop
    d.click("#new-secret")
    d.type("#editor-name", "db/prod")
    d.select("#editor-template", "database")
    d.wait_for('.editor-field[data-field="password"]')
    values = {
        "host": "db.internal",
        "port": "5432",
        "username": "app",
        "password": DB_PASSWORD,
        "database": "orders",
    }
    for name, value in values.items():
        d.type(f'.editor-field[data-field="{name}"] .field-value', value)
    d.type("#editor-tags", "prod, db")
    d.type("#editor-expires", "2030-01-31")
    d.type("#new-folder", "Work")
    d.click("#create-folder")
    d.wait_until(lambda _: d.find("#editor-folder").get_attribute("value") == "Work")
    d.type("#editor-notes", "primary orders database")
    d.shot("editor")
    d.click("#save-secret")
    d.wait_until(lambda _: d.find("#detail-name").text == "db/prod")
    # The template's bindings, the metadata, and the password masked.
    bindings = d.find("#detail-bindings").text
    for env in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        assert env in bindings
    assert d.find("#detail-tags").text == "prod, db"
    assert d.find("#detail-expires").text == "2030-01-31"
    assert d.find("#detail-folder").text == "Work"
    assert field_value(d, "host") == "db.internal"
    assert DB_PASSWORD not in field_value(d, "password")
    assert "****" in field_value(d, "password")
    # List and detail views never carry the sensitive value to the web view.
    assert DB_PASSWORD not in d.driver.page_source
    d.shot("main")


def test_03_search_and_filters(desktop):
    d = desktop
    search(d, "prod")
    d.wait_until(lambda _: rows(d) == ["db/prod"])
    search(d, "nothing-like-this")
    d.wait_until(lambda _: rows(d) == [])
    search(d, "")
    d.wait_until(lambda _: rows(d) == ["db/prod"])
    d.click('#sidebar .tag-item[data-tag="db"]')
    d.wait_until(lambda _: rows(d) == ["db/prod"])
    d.click('#sidebar .folder-item[data-folder="Work"]')
    d.wait_until(lambda _: rows(d) == ["db/prod"])
    d.click("#filter-all")


def test_04_reveal_is_audited_as_a_desktop_get(desktop):
    d = desktop
    open_secret(d, "db/prod")
    d.click('#detail-fields .field[data-field="password"] .reveal')
    d.wait_until(lambda _: field_value(d, "password") == DB_PASSWORD)
    open_audit(d, action="get", key="db/prod")
    found = d.find_all('#audit-table .audit-row[data-action="get"][data-source="desktop"]')
    assert found and found[0].get_attribute("data-key") == "db/prod"
    d.shot("audit")
    # The CLI sees the same record, with source desktop.
    out = json.loads(d.cli("audit", "list", "--action", "get", "--json").stdout)
    assert any(r["source"] == "desktop" and r["key"] == "db/prod" for r in out)


def test_05_copy_and_clipboard_clearing(desktop):
    d = desktop
    d.click("#nav-secrets")
    open_secret(d, "db/prod")
    d.click('#detail-fields .field[data-field="password"] .copy')
    d.wait_until(lambda _: clipboard() == DB_PASSWORD, message="value copied")
    # Cleared after the delay (4 s for the test; 30 s by default).
    d.wait_until(lambda _: clipboard() == "", timeout=12, message="clipboard cleared")
    # The shortcut C copies the first sensitive field; something copied since is never wiped.
    press(d, "c")
    d.wait_until(lambda _: clipboard() == DB_PASSWORD, message="copied by shortcut")
    mine = subprocess.Popen(["xclip", "-i", "-selection", "clipboard"], stdin=subprocess.PIPE)
    mine.communicate(b"my own text", timeout=10)
    d.wait_until(lambda _: clipboard() == "my own text")
    time.sleep(6)
    assert clipboard() == "my own text"
    assert DB_PASSWORD not in d.driver.page_source


def test_06_editing_one_field_keeps_everything_else(desktop):
    d = desktop
    open_secret(d, "db/prod")
    d.click("#edit-secret")
    d.wait_visible("#editor")
    d.type('.editor-field[data-field="port"] .field-value', "6432")
    press_save = ActionChains(d.driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL)
    press_save.perform()
    d.wait_until(lambda _: d.find_all("#detail-name") and field_value(d, "port") == "6432")
    assert d.find("#detail-tags").text == "prod, db"
    assert d.find("#detail-expires").text == "2030-01-31"
    assert d.find("#detail-folder").text == "Work"
    assert d.find("#detail-notes").text == "primary orders database"
    assert "PGPASSWORD" in d.find("#detail-bindings").text
    meta = json.loads(d.cli("get", "db/prod", "--fields", "--json").stdout)
    assert meta["tags"] == ["prod", "db"]
    assert meta["expires_at"].startswith("2030-01-31")
    assert meta["folder"] == "Work"
    names = [f["name"] for f in meta["fields"]]
    assert names == ["host", "port", "username", "password", "database"]
    # The sensitive field left masked in the editor kept its value.
    assert d.cli("get", "db/prod", "--field", "password").stdout == DB_PASSWORD


def test_07_secrets_cross_between_the_app_and_the_cli(desktop):
    d = desktop
    # Created in the app, read by the real CLI binary.
    assert d.cli("get", "db/prod", "--field", "host").stdout == "db.internal"
    # Created by the CLI while the app runs, shown by the app.
    d.cli("set", "cli/token", "--tags", "ci", stdin="tok-from-the-cli\n")
    search(d, "cli")
    d.wait_until(lambda _: rows(d) == ["cli/token"])
    open_secret(d, "cli/token")
    d.click('#detail-fields .field[data-field="value"] .reveal')
    d.wait_until(lambda _: field_value(d, "value") == "tok-from-the-cli")
    search(d, "")


def test_07b_the_app_works_alongside_a_running_agent(desktop):
    d = desktop
    d.cli("unlock", "--ttl", "10m")
    try:
        # With the app unlocked too, the agent serves the CLI (no password given)...
        d.cli("set", "agent/token", stdin="tok-via-the-agent\n", password=False)
        search(d, "agent/")
        d.wait_until(lambda _: rows(d) == ["agent/token"])
        open_secret(d, "agent/token")
        d.click('#detail-fields .field[data-field="value"] .reveal')
        d.wait_until(lambda _: field_value(d, "value") == "tok-via-the-agent")
        # ...and sees what the app writes meanwhile.
        d.click("#edit-secret")
        d.wait_visible("#editor")
        d.type("#editor-tags", "from-app")
        d.click("#save-secret")
        d.wait_until(lambda _: d.find_all("#detail-name") and d.find("#detail-tags").text == "from-app")
        listed = json.loads(d.cli("list", "--json", password=False).stdout)
        mine = [s for s in listed if s["key"] == "agent/token"]
        assert mine and mine[0]["tags"] == ["from-app"], mine
        # One audit log: the agent's write and the app's reveal and edit, in one verified chain.
        records = json.loads(d.cli("audit", "list", "--key", "agent/token", "--json").stdout)
        seen = {(r["action"], r["source"]) for r in records}
        assert {("set", "agent"), ("get", "desktop"), ("set", "desktop")} <= seen, seen
        d.cli("audit", "verify")
    finally:
        d.cli("lock", check=False)
    search(d, "")


def test_08_new_by_shortcut_then_delete(desktop):
    d = desktop
    press(d, "n")
    d.type("#editor-name", "tmp/scratch")
    d.type('.editor-field[data-field="value"] .field-value', "throwaway")
    d.click("#save-secret")
    d.wait_until(lambda _: "tmp/scratch" in rows(d))
    d.click("#delete-secret")
    d.click("#confirm-yes")
    d.wait_until(lambda _: "tmp/scratch" not in rows(d))
    assert d.cli("get", "tmp/scratch", check=False).returncode != 0


def test_09_palette_and_shortcut_help(desktop):
    d = desktop
    press(d, "k", ctrl=True)
    d.wait_visible("#palette-input")
    d.type("#palette-input", "cli/tok", clear=False)
    d.shot("palette")
    d.find("#palette-input").send_keys(Keys.ENTER)
    d.wait_until(lambda _: d.find_all("#detail-name") and d.find("#detail-name").text == "cli/token")
    press(d, "?")
    d.wait_visible("#shortcuts-help")
    assert "Ctrl/⌘ K" in d.find("#shortcuts-help").text
    press(d, Keys.ESCAPE)
    d.wait_until(lambda _: not d.find_all("#shortcuts-help"))
    press(d, "f")
    d.wait_until(lambda _: d.driver.execute_script("return document.activeElement.id") == "search")


def test_09b_password_generator(desktop):
    d = desktop
    d.click("#nav-generator")
    d.type("#gen-length", "32")
    d.click("#gen-symbols")
    d.click("#gen-generate")
    d.wait_until(lambda _: len(d.find("#gen-output").text) == 32)
    password = d.find("#gen-output").text
    assert password.isalnum()
    assert "bits" in d.find("#gen-entropy").text
    d.click("#gen-copy")
    d.wait_until(lambda _: clipboard() == password, message="generated password copied")
    d.shot("generator")
    # In the editor, Generate fills a sensitive field with a fresh password.
    d.click("#nav-secrets")
    press(d, "n")
    d.type("#editor-name", "gen/pw")
    d.click('.editor-field[data-field="value"] .field-generate')
    d.wait_until(
        lambda _: len(d.find('.editor-field[data-field="value"] .field-value').get_attribute("value")) == 24
    )
    d.click("#save-secret")
    d.wait_until(lambda _: "gen/pw" in rows(d))
    assert len(d.cli("get", "gen/pw").stdout) == 24


def test_09c_security_dashboard(desktop):
    d = desktop
    d.cli("set", "weak/pin", stdin="123456\n")
    d.cli("set", "weak/pin-copy", stdin="123456\n")
    d.click("#nav-security")
    d.wait_visible("#security-score", timeout=30)
    d.wait_until(lambda _: d.find_all('#security-weak [data-key="weak/pin"]'))
    assert d.find_all('#security-reused [data-key="weak/pin-copy"]')
    assert int(d.find("#security-score").text) < 100
    assert "123456" not in d.driver.page_source
    d.shot("security")
    d.click('#security-weak [data-key="weak/pin"]')
    d.wait_until(lambda _: d.find("#detail-name").text == "weak/pin")
    # Going back to the list reads the vault again: the CLI's secrets are there.
    d.wait_until(lambda _: "weak/pin" in rows(d))
    for name in ("weak/pin", "weak/pin-copy"):
        d.cli("delete", name, "--yes", check=False)


def test_10_lock_by_shortcut_wrong_password_and_unlock(desktop):
    d = desktop
    press(d, "l")
    d.wait_visible("#unlock")
    assert d.find("#lock-reason").get_attribute("data-reason") == "user"
    unlock(d, "not the password")
    d.wait_until(lambda _: "wrong master password" in d.find("#unlock-error").text, timeout=30)
    d.shot("unlock-error")
    unlock(d)
    d.wait_visible("#app-main", timeout=30)


def test_11_audit_verify_export_then_tamper(desktop):
    d = desktop
    open_audit(d, source="desktop")
    info = d.find("#audit-page-info").text
    total = int(info.split("·")[1].split()[0])
    assert total > 50, info
    assert len(d.find_all("#audit-table .audit-row")) == 50
    d.click("#audit-verify")
    d.wait_until(lambda _: d.find("#audit-verify-result").get_attribute("data-ok") == "true")
    d.shot("audit-verified")
    # Export the whole filtered set (every page), as JSON and CSV.
    path = d.workdir / "export"
    d.type("#audit-export-path", str(path))
    d.click("#audit-export-json")
    d.wait_until(lambda _: "export.json" in d.find("#audit-export-result").text)
    exported = json.loads((d.workdir / "export.json").read_text())
    assert len(exported) >= total
    assert all(r["source"] == "desktop" for r in exported)
    d.click("#audit-export-csv")
    d.wait_until(lambda _: "export.csv" in d.find("#audit-export-result").text)
    lines = (d.workdir / "export.csv").read_text().strip().splitlines()
    assert lines[0].startswith("seq,timestamp,action,source")
    assert len(lines) - 1 >= total
    # Tamper with one record behind the app's back.
    subprocess.run(
        ["sqlite3", str(d.vault_dir / "vault.db")],
        input=".timeout 10000\nUPDATE audit_log SET detail = '{\"forged\":true}' WHERE seq = 3;\n",
        text=True,
        check=True,
        timeout=30,
    )
    d.click("#audit-verify")
    d.wait_until(lambda _: d.find("#audit-verify-result").get_attribute("data-ok") == "false")
    assert "3" in d.find("#audit-verify-result").text
    d.shot("audit-tampered")


def test_12_idle_timeout_locks(desktop):
    d = desktop
    d.start("--auto-lock-secs", "3")
    d.wait_visible("#unlock")
    unlock(d)
    d.wait_visible("#app-main", timeout=30)
    d.wait_visible("#unlock", timeout=20)
    assert d.find("#lock-reason").get_attribute("data-reason") == "idle"


def test_13_japanese_and_dark_are_kept_across_a_restart(desktop):
    d = desktop
    d.start()
    unlock(d)
    d.wait_visible("#app-main", timeout=30)
    d.click("#nav-settings")
    d.select("#settings-theme", "dark")
    d.select("#settings-language", "ja")
    d.click("#settings-save")
    d.wait_until(lambda _: d.driver.execute_script("return document.documentElement.lang") == "ja")
    assert d.driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    assert d.find("#nav-settings").text == "設定"
    d.shot("settings-dark-ja")
    d.click("#nav-secrets")
    open_secret(d, "db/prod")
    d.shot("main-dark-ja")
    d.start()
    d.wait_visible("#unlock")
    assert d.driver.execute_script("return document.documentElement.lang") == "ja"
    assert d.driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    assert d.find("#unlock h1").text == "ロック解除"
    settings = json.loads((d.config_dir / "settings.json").read_text())
    assert settings["language"] == "ja" and settings["theme"] == "dark"


def test_14_change_password(desktop):
    d = desktop
    unlock(d)
    d.wait_visible("#app-main", timeout=30)
    d.click("#nav-settings")
    d.type("#pw-current", PASSWORD)
    d.type("#pw-new", NEW_PASSWORD)
    d.type("#pw-confirm", NEW_PASSWORD)
    d.click("#pw-change")
    d.wait_until(lambda _: d.find("#pw-result").get_attribute("class") == "ok", timeout=30)
    env_check = subprocess.run(
        [d.cli_bin, "list"],
        env={"SECRETCTL_HOME": str(d.vault_dir), "SECRETCTL_PASSWORD": NEW_PASSWORD, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_check.returncode == 0, env_check.stderr
    assert "db/prod" in env_check.stdout


def test_15_the_web_view_is_locked_down(desktop):
    d = desktop
    # No global Tauri object; eval, inline script and remote fetches are refused by the CSP.
    assert d.driver.execute_script("return typeof window.__TAURI__") == "undefined"
    assert d.driver.execute_script(
        "try { eval('1'); return 'ran'; } catch (e) { return 'blocked'; }"
    ) == "blocked"
    assert d.driver.execute_script(
        "try { new Function('return 1')(); return 'ran'; } catch (e) { return 'blocked'; }"
    ) == "blocked"
    outcome = d.driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch('https://example.com/').then(() => done('fetched'), () => done('blocked'));"""
    )
    assert outcome == "blocked"
    d.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
        "document.body.appendChild(s);"
    )
    assert d.driver.execute_script("return window.__inline === undefined")
