"""Accounts end to end (issue 15): real Chromium, the real app, a real OpenID Connect provider on localhost.

The provider is oidc-provider-mock (an OIDC server made for tests) started as a subprocess; the app runs
as tests/test_e2e.py starts it, with an ``[auth]`` section in a secrets file of its own. Alice and Bob
each log in in their own browser context and must only ever see their own sessions and questions; a
visitor without a login must never reach a page with data. A second app, behind a (pretend) proxy,
takes the person from a trusted header instead.

Every URL uses 127.0.0.1: the browser's origin must be the redirect URI's origin, or the login
cookie is set for one host and looked for on another.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_factory import speak
from test_e2e import (
    ANALYSIS_TIMEOUT_MS,
    CHROMIUM,
    PAGE_TIMEOUT_MS,
    QUESTION,
    QUIET_FLAGS,
    ROOT,
    _free_port,
    app_server,
    assert_no_error_shown,
    expect,
    pick_question,
    playwright,  # noqa: F401  (a fixture: pytest finds it by this name)
    upload_and_analyse,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ROOT / "artifacts" / "e2e-auth"
PEOPLE = {
    "alice@example.com": {"email": "alice@example.com", "name": "Alice Liddell"},
    "bob@example.com": {"email": "bob@example.com", "name": "Bob Builder"},
}
# Alice's own question: text nobody else has, so "absent for Bob" means absent, not "also in the bank".
ALICE_QUESTION = "How would you shard the Wonderland ledger database?"
ALICE_POINT = "Split the ledger by account so each shard stays small"
BOB_QUESTION = QUESTION  # a bank question: Bob's session, not the question, is what Alice must not see
ANSWER = "I would put a cache in front of the database, and give every entry a time to live."  # short: quick


# Processes --------------------------------------------------------------------------------------
def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n" + log.read_text(errors="replace"))
        time.sleep(0.3)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def oidc_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1:<free port>, Alice and Bob registered with a name and an e-mail."""
    folder = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    claims = [f"--user-claims={json.dumps({'sub': sub, **c})}" for sub, c in PEOPLE.items()]
    log_path = folder / "oidc.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1",
                                 "--port", str(port), *claims],
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{issuer}/.well-known/openid-configuration", proc, log_path, timeout=60)
        yield issuer
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def app_with_login(tmp_path_factory: pytest.TempPathFactory, oidc_issuer: str) -> Iterator[str]:
    """The app with login on: ``[auth]`` in a secrets file given with --secrets.files (none in the repo)."""
    folder = tmp_path_factory.mktemp("auth-app")
    port = _free_port()  # known before the start: the redirect URI names it
    secrets_toml = folder / "secrets.toml"
    secrets_toml.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "interview-coach"\n'  # the mock accepts any client
        'client_secret = "test-secret"\n'
        f'server_metadata_url = "{oidc_issuer}/.well-known/openid-configuration"\n'
    )
    (folder / "data").mkdir()
    with app_server(folder / "data", args=["--secrets.files", str(secrets_toml)], port=port) as url:
        yield url


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator[object]:  # noqa: F811  (the imported fixture, by name)
    """Plain Chromium: answers are uploaded, no camera or microphone."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def answer_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(ANSWER, tmp_path_factory.mktemp("auth-media") / "answer.wav")


# Helpers ----------------------------------------------------------------------------------------
def new_page(browser, base_url: str, **context_args: object):
    """A fresh browser context (its own cookies: one per person) and a page in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url,
                                  accept_downloads=True, **context_args)  # fmt: skip
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context.new_page()


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def script_done(page) -> None:
    """Wait until the page's script run has ended (what is shown now is all it shows)."""
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_have_count(1)


def log_in(page, app_url: str, sub: str) -> None:
    """The app's Log in button, then the provider's authorization form; Streamlit lands on "/"."""
    page.goto("/")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(app_url + "/")
    person = PEOPLE[sub]
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {person['name']} ({sub})")).to_be_visible()


def log_out(page, app_url: str) -> None:
    """st.logout() goes to the provider's end-session page (the mock asks for a click), then back to the app."""
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(app_url + "/")
    assert_login_page_only(page)


def assert_login_page_only(page, *secrets_shown: str) -> None:
    """The login page and nothing else: one button (Log in), no navigation, no metric, none of ``secrets_shown``."""
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    script_done(page)
    expect(page.get_by_test_id("stButton")).to_have_count(1)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    body = page.locator("body").inner_text()
    for secret in (*secrets_shown, "Pick a question", "Sessions analysed", "Transcript"):
        assert secret not in body, (secret, body)
    assert_no_error_shown(page)


def sessions_on_home(page) -> str:
    page.goto("/")
    metric = page.get_by_test_id("stMetric").filter(has_text="Sessions analysed")
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\d+$"))
    assert_no_error_shown(page)
    return metric.get_by_test_id("stMetricValue").inner_text()


def add_question(page, text: str, key_point: str) -> None:
    page.goto("/questions")
    form = page.get_by_test_id("stForm")
    form.get_by_label("Question").fill(text)
    form.get_by_label("Key points (one per line)").fill(key_point)
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_text(re.compile(r"^Added \(custom-"))).to_be_visible()
    page.reload()  # the list above the form is drawn before the form adds: read it fresh
    expect(page.get_by_text(text)).to_have_count(1)
    assert_no_error_shown(page)


def answer_by_upload(page, question: str, wav: Path) -> str:
    """Answer ``question`` in the Arena's "Upload a file" tab; the session id from the dashboard's JSON download."""
    page.goto("/arena")
    expect(page.get_by_text("Pick a question")).to_be_visible()
    pick_question(page, question)
    upload_and_analyse(page, wav)
    expect(page.get_by_text("Analysis ready")).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    assert_no_error_shown(page)
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    expect(page.get_by_role("combobox", name="Session")).to_have_value(re.compile(re.escape(question[:60])))
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download JSON").click()
    found = re.fullmatch(r"interview-coach-([0-9a-f]{12})\.json", download.value.suggested_filename)
    assert found, download.value.suggested_filename
    assert_no_error_shown(page)
    return found.group(1)


def history_text(page) -> str:
    page.goto("/history")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    script_done(page)
    assert_no_error_shown(page)
    return page.get_by_test_id("stMain").inner_text()


# Scenarios --------------------------------------------------------------------------------------
def test_each_person_sees_only_their_own_sessions(browser, app_with_login: str, answer_wav: Path) -> None:
    """Alice answers; Bob sees none of it anywhere, then only his own; logout; a visitor sees no data."""
    app = app_with_login
    t0 = time.monotonic()
    alice = new_page(browser, app)
    log_in(alice, app, "alice@example.com")
    assert sessions_on_home(alice) == "0"
    add_question(alice, ALICE_QUESTION, ALICE_POINT)
    alice_id = answer_by_upload(alice, ALICE_QUESTION, answer_wav)
    assert sessions_on_home(alice) == "1"
    screenshot(alice, "01-alice-home")
    print(f"alice answered ({alice_id}) at {time.monotonic() - t0:.0f}s")

    bob = new_page(browser, app)
    log_in(bob, app, "bob@example.com")
    assert ALICE_QUESTION not in bob.locator("body").inner_text()
    assert sessions_on_home(bob) == "0"
    text = history_text(bob)
    assert "No sessions match" in text and ALICE_QUESTION not in text, text
    bob.goto("/dashboard")
    expect(bob.get_by_text("No sessions yet")).to_be_visible()
    bob.goto("/questions")
    expect(bob.get_by_role("heading", name="Add your own question")).to_be_visible()
    script_done(bob)
    assert ALICE_QUESTION not in bob.locator("body").inner_text()
    bob.goto(f"/dashboard?session={alice_id}")  # her id, with no session of his own yet
    expect(bob.get_by_text(f"Session {alice_id} not found.")).to_be_visible()
    script_done(bob)
    assert ALICE_QUESTION not in bob.locator("body").inner_text()
    expect(bob.get_by_role("heading", name="Transcript")).to_have_count(0)
    screenshot(bob, "02-bob-alice-session-not-found")

    bob_id = answer_by_upload(bob, BOB_QUESTION, answer_wav)
    assert bob_id != alice_id
    print(f"bob answered ({bob_id}) at {time.monotonic() - t0:.0f}s")
    assert sessions_on_home(bob) == "1"
    text = history_text(bob)
    assert BOB_QUESTION in text and ALICE_QUESTION not in text, text
    expect(bob.get_by_test_id("stButton").filter(has_text=re.compile(r"^Open$"))).to_have_count(1)
    bob.goto(f"/dashboard?session={alice_id}")  # and with one of his own: still not found
    expect(bob.get_by_text(f"Session {alice_id} not found.")).to_be_visible()
    script_done(bob)
    assert ALICE_QUESTION not in bob.locator("body").inner_text()
    bob.goto("/dashboard")
    expect(bob.get_by_role("heading", name="Transcript")).to_be_visible()
    script_done(bob)
    options = bob.get_by_role("combobox", name="Session")
    expect(options).to_have_value(re.compile(re.escape(BOB_QUESTION)))
    options.click()  # every session Bob may pick: his one
    expect(bob.get_by_role("option")).to_have_count(1)
    bob.keyboard.press("Escape")
    screenshot(bob, "03-bob-dashboard")

    # Bob's answer is Bob's: Alice still has one session, hers, and his is "not found" for her.
    assert sessions_on_home(alice) == "1"
    text = history_text(alice)
    assert ALICE_QUESTION in text and BOB_QUESTION not in text, text
    alice.goto(f"/dashboard?session={bob_id}")
    expect(alice.get_by_text(f"Session {bob_id} not found.")).to_be_visible()

    log_out(bob, app)  # back on the login page; the login cookie is gone
    assert "_streamlit_user" not in {c["name"] for c in bob.context.cookies()}
    bob.goto("/history")
    assert_login_page_only(bob, BOB_QUESTION, bob_id)
    screenshot(bob, "04-bob-logged-out")
    bob.context.close()
    alice.context.close()

    # A visitor who never logged in, at every address, with Alice's id in hand: the login page only.
    visitor = new_page(browser, app)
    for address in ("/", "/arena", f"/dashboard?session={alice_id}", "/history", "/questions"):
        visitor.goto(address)
        assert_login_page_only(visitor, ALICE_QUESTION, alice_id, BOB_QUESTION, bob_id)
    screenshot(visitor, "05-visitor")
    visitor.context.close()
    # A cookie not signed with the app's cookie secret is not a login.
    forged = new_page(browser, app)
    forged.context.add_cookies([{"name": "_streamlit_user", "url": app,
                                 "value": json.dumps({"email": "alice@example.com", "is_logged_in": True})}])  # fmt: skip
    forged.goto(f"/dashboard?session={alice_id}")
    assert_login_page_only(forged, ALICE_QUESTION, alice_id)
    forged.context.close()
    print(f"scenario took {time.monotonic() - t0:.0f}s")


def test_trusted_proxy_header_names_the_person(browser, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No [auth]: COACH_TRUSTED_USER_HEADER names the header an authenticating proxy sets."""
    folder = tmp_path_factory.mktemp("proxy-app")
    no_secrets = folder / "secrets.toml"
    no_secrets.write_text("")  # and no [auth] from anywhere else
    (folder / "data").mkdir()
    with app_server(folder / "data", env={"COACH_TRUSTED_USER_HEADER": "X-Forwarded-Email"},
                    args=["--secrets.files", str(no_secrets)]) as app:  # fmt: skip
        carol = new_page(browser, app, extra_http_headers={"X-Forwarded-Email": "carol@example.com"})
        carol.goto("/")
        expect(carol.get_by_test_id("stSidebar").get_by_text("Signed in as carol@example.com")).to_be_visible()
        assert sessions_on_home(carol) == "0"
        expect(carol.get_by_role("button", name="Log in")).to_have_count(0)
        assert_no_error_shown(carol)
        screenshot(carol, "06-proxy-carol")
        carol.context.close()

        nobody = new_page(browser, app)  # reached the app without the proxy
        nobody.goto("/history")
        expect(nobody.get_by_text("No identity reached the app")).to_be_visible()
        script_done(nobody)
        expect(nobody.get_by_test_id("stMetric")).to_have_count(0)
        expect(nobody.get_by_role("heading", name="History")).to_have_count(0)
        screenshot(nobody, "07-proxy-no-header")
        nobody.context.close()
