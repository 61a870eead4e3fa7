"""Every row of the method table, fed hostile parameters generated from the table itself.

A method added to the table is attacked here without a new test. Each answer must be a result
or a proper error (never `internal`), quote at most a little of what was sent, and leave the
same daemon serving a bystander's session byte-exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hostile import assert_alive, call_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsctl_fixtures import LoggedIn, logged_in_daemon
from jsctl_testing import DaemonProcess

from jsctl_protocol import METHODS, Method, Param
from jsctl_sandbox.testing import SandboxInfo

HUGE = "x" * 100_000
LONG = "y" * 4000  # within the default string limit: must not come back whole in a message
MAX_MESSAGE = 400  # a message may name the parameter and rule, quote ~80 characters, no more
# Calls that would end the conversation for the rest of the sweep (tested on their own).
ENDS_THE_DAEMON = {"daemon.shutdown"}
ENDS_THE_LOGIN = {"auth.logout", "profile.remove", "auth.login.start"}
# Local paths the daemon would read or write: kept away from the real asset, so a generated
# "." never copies a file tree into the test's working directory.
TOUCHES_LOCAL_FILES = {"files.upload", "files.download"}
# No DNS look-up or connection leaves this machine, whatever is generated.
SAFE_URLS = ["", "https://127.0.0.1:1/", "ftp://127.0.0.1/", "http://[::1", HUGE, "https://"]


def hostile_values(known: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.just(HUGE),
        st.just(LONG),
        st.just("\u202e\x00\U0001f600/../..\r\n\x1b[2J"),
        st.binary(max_size=20),
        st.lists(st.one_of(st.text(max_size=4), st.integers(-9, 2**40), st.none()), max_size=4),
        st.just([HUGE] * 3),
        st.dictionaries(st.text(max_size=4), st.integers(-9, 2**40), max_size=2),
        *([st.sampled_from(known)] if known else []),
    )


def plausible_value(param: Param, known: list[str]) -> st.SearchStrategy[Any]:
    """A value of the right kind, within its rules, so that calls get past the door too."""
    words = (
        st.one_of(st.sampled_from(known), st.text(max_size=10)) if known else st.text(max_size=10)
    )
    by_kind: dict[str, st.SearchStrategy[Any]] = {
        "str": words,
        "text": words,
        "int": st.integers(0, 100),
        "float": st.floats(0, 1.5),  # waits and timeouts stay short
        "bool": st.booleans(),
        "bytes": st.binary(max_size=10),
        "list": st.lists(words, max_size=3),
        "map": st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
    }
    return by_kind.get(param.kind, st.none())


def hostile_params(row: Method, known: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    values = {
        param.name: (
            st.sampled_from(SAFE_URLS)
            if param.name == "url"
            else st.one_of(plausible_value(param, known), hostile_values(known))
        )
        for param in row.params
    }
    unknown = st.dictionaries(
        st.sampled_from(["bogus", HUGE, "", "__class__"]), hostile_values([]), max_size=1
    )
    return st.tuples(st.fixed_dictionaries({}, optional=values), unknown).map(
        lambda pair: {**pair[0], **pair[1]}
    )


def check_answer(method: str, params: dict[str, Any], reply: dict[str, Any] | None) -> None:
    if reply is None:
        return  # still running (a stream or a wait with a long, valid deadline): not an error
    if "error" in reply:
        error = reply["error"]
        assert error["code"] != "internal", (method, params, error)
        assert len(error["message"]) <= MAX_MESSAGE, (method, error["message"][:300])
        assert "y" * 100 not in error["message"], (method, "echoed a long input")
        assert HUGE[:200] not in repr(error.get("data")), (method, "echoed the input")
    else:
        assert "result" in reply, reply


def sweep(
    daemon: DaemonProcess,
    methods: list[str],
    known: list[str],
    examples: int,
    avoid_known: frozenset[str] = frozenset(),
) -> None:
    for name in methods:
        attack_method(daemon, name, [] if name in avoid_known else known, examples)


def attack_method(daemon: DaemonProcess, name: str, known: list[str], examples: int) -> None:
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(hostile_params(METHODS[name], known))
    def attack(params: dict[str, Any]) -> None:
        check_answer(name, params, call_raw(daemon, name, params, timeout=2.0))

    attack()


@pytest.fixture(scope="module")
def attacked(sandbox: SandboxInfo) -> Iterator[tuple[LoggedIn, str]]:
    """A logged-in daemon with a bystander session whose output must come through intact."""
    with logged_in_daemon(sandbox) as logged, logged.daemon.client() as client:
        session = client.call("session.open", asset="web-01", name="bystander")["session"]["id"]
        yield logged, session


def bystander_still_exact(daemon: DaemonProcess, session: str) -> None:
    with daemon.client() as client:
        reply = client.call(
            "run.start",
            session=session,
            asset=None,
            command="printf 'b%.0s' $(seq 1 300); echo",
            wait=20,
        )
        assert reply["state"] == "done" and reply["exit_status"] == 0, reply
        assert reply["output"].replace(b"\r\n", b"\n") == b"b" * 300 + b"\n"


def test_every_method_survives_hostile_params_before_login(jsctl_daemon: DaemonProcess) -> None:
    assert jsctl_daemon.process is not None
    pid = jsctl_daemon.process.pid
    sweep(jsctl_daemon, sorted(set(METHODS) - ENDS_THE_DAEMON), [], examples=25)
    assert_alive(jsctl_daemon, pid)
    assert "internal error" not in jsctl_daemon.log_text()


def test_every_method_survives_hostile_params_when_logged_in(
    attacked: tuple[LoggedIn, str],
) -> None:
    logged, session = attacked
    daemon = logged.daemon
    assert daemon.process is not None
    pid = daemon.process.pid
    known = ["web-01", "db-01", "root", "Default", "bystander-not", "mei", "/Default"]
    methods = sorted(set(METHODS) - ENDS_THE_DAEMON - ENDS_THE_LOGIN)
    sweep(daemon, methods, known, examples=40, avoid_known=frozenset(TOUCHES_LOCAL_FILES))
    assert_alive(daemon, pid)
    assert "internal error" not in daemon.log_text()
    bystander_still_exact(daemon, session)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"command": "true", "asset": "web-01", "timeout": -5}, "at least 0"),
        ({"command": "true", "asset": "web-01", "timeout": float("nan")}, "finite"),
        ({"command": "true", "asset": "web-01", "timeout": float("inf")}, "finite"),
        ({"command": "true", "asset": "web-01", "wait": -1}, "at least 0"),
        ({"command": "true", "asset": HUGE}, "limit is 256"),
        ({"command": HUGE * 2, "asset": "web-01"}, "limit is 65536"),
    ],
)
def test_bad_values_name_the_parameter_and_the_rule(
    attacked: tuple[LoggedIn, str], params: dict[str, Any], words: str
) -> None:
    reply = call_raw(attacked[0].daemon, "run.start", params)
    assert reply is not None and reply["error"]["code"] == "bad_params", reply
    message = reply["error"]["message"]
    assert words in message and "`run.start`" in message, message
    assert len(message) < 200


@pytest.mark.parametrize("kind", ["status", "garbage"])
def test_every_method_answers_properly_while_the_server_fails(
    attacked: tuple[LoggedIn, str], kind: str
) -> None:
    """A server that answers 502 or garbage on every path: each method says so, none crashes
    (whoami once answered UnboundLocalError here)."""
    logged, session = attacked
    daemon, control = logged.daemon, logged.sandbox.control()
    control.add_fault("/", kind, status=502)
    try:
        for name in sorted(set(METHODS) - ENDS_THE_DAEMON - ENDS_THE_LOGIN - TOUCHES_LOCAL_FILES):
            params: dict[str, Any] = {}
            for param in METHODS[name].params:
                if param.required:
                    params[param.name] = {
                        "str": "web-01",
                        "list": ["web-01"],
                        "int": 1,
                        "float": 0.5,
                        "bool": True,
                        "text": "x",
                        "bytes": b"x",
                    }.get(param.kind)
            if name.startswith(("assets.", "nodes.", "accounts.")):
                params["refresh"] = True
            check_answer(name, params, call_raw(daemon, name, params, timeout=15.0))
    finally:
        control.reset()
    assert "internal error" not in daemon.log_text()
    bystander_still_exact(daemon, session)
