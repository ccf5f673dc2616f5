"""Runs two third-party RouterOS API clients (librouteros, routeros-api)
against the MockRouter and fails on any answer a real router would not give.

Usage: cross_check.py PATH-TO-mock-router-BINARY   (see scripts/cross-check.sh)

Each check names the flow and what it expected; the first mismatch ends the
run with exit status 1.
"""

import socket
import subprocess
import sys

import librouteros
import routeros_api
from librouteros.exceptions import TrapError
from librouteros.login import token as legacy_login
from librouteros.query import Key
from routeros_api.exceptions import RouterOsApiCommunicationError

MOCK = sys.argv[1]
FAILURES = []


def check(flow, got, expected):
    if got == expected:
        print(f"ok   {flow}")
    else:
        print(f"FAIL {flow}\n     expected {expected!r}\n     got      {got!r}")
        FAILURES.append(flow)


class Mock:
    """The mock-router example as a child process; stops when its stdin closes."""

    def __init__(self, *args):
        self.process = subprocess.Popen(
            [MOCK, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"the mock did not start: {line!r}")
        host, port = line.split()[-1].rsplit(":", 1)
        self.host, self.port = host, int(port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def raw_sentences(api, tag_words, count):
    """The next `count` sentences librouteros reads, as (reply word, words)."""
    got = []
    for _ in range(count):
        word, words = api.protocol.readSentence()
        got.append((word, tuple(w for w in words if w in tag_words or w.startswith("=message="))))
    return got


def librouteros_flows():
    with Mock("--user", "admin:pw", "--empty-replies") as mock:
        # Login, the 6.43 form.
        api = librouteros.connect(mock.host, "admin", "pw", port=mock.port, timeout=10)
        try:
            librouteros.connect(mock.host, "admin", "wrong", port=mock.port, timeout=10)
            check("librouteros: a wrong password is refused", "logged in", "TrapError")
        except TrapError as e:
            check("librouteros: a wrong password is refused", str(e), "invalid user name or password (6)")

        # Print with a query (a boolean in RouterOS 6 words against a RouterOS 7 mock).
        interfaces = api.path("interface")
        rows = list(
            interfaces.select(Key("name"), Key("running")).where(
                Key("type") == "ether", Key("running") == True  # noqa: E712
            )
        )
        check(
            "librouteros: print ?type=ether ?running=yes with .proplist",
            rows,
            [{"name": f"ether{i}", "running": True} for i in range(1, 5)],
        )

        # add / set / remove.
        addresses = api.path("ip", "address")
        new_id = addresses.add(address="10.9.9.1/24", interface="ether2")
        check("librouteros: add returns the new id", new_id, "*3")
        addresses.update(**{".id": new_id, "comment": "lab", "disabled": True})
        row = [r for r in addresses if r[".id"] == new_id][0]
        check("librouteros: set is printed back typed", (row["comment"], row["disabled"]), ("lab", True))
        addresses.remove(new_id)
        left = list(addresses.select(Key("address")).where(Key("comment") == "lab"))
        check("librouteros: removed, and an empty print (!empty) is no rows", left, [])
        for flow, kwargs, message in [
            ("an unknown parameter", {"address": "10.1.1.1/24", "interface": "ether2", "colour": "x"},
             "unknown parameter colour"),
            ("a missing required property", {"interface": "ether2"},
             "missing value(s) of argument(s) address"),
            ("a bad interface", {"address": "10.1.1.1/24", "interface": "asdf"},
             "input does not match any value of interface"),
        ]:
            try:
                addresses.add(**kwargs)
                check(f"librouteros: add with {flow} traps", "added", message)
            except TrapError as e:
                check(f"librouteros: add with {flow} traps", str(e), message)
        try:
            tuple(api("/interface/wirelss/print"))  # a typo: the mock knows every real menu
            check("librouteros: an unknown path traps twice", "no trap", "MultiTrapError")
        except librouteros.exceptions.MultiTrapError as e:
            check("librouteros: an unknown path traps twice", [str(t) for t in e.traps],
                  ["no such command or directory (wirelss)", "no such command prefix"])

        # Listen, a change from another session, then cancel (raw sentences: order matters).
        api.protocol.writeSentence("/ip/address/listen", ".tag=l")
        other = librouteros.connect(mock.host, "admin", "pw", port=mock.port, timeout=10)
        # The listen is registered once the mock has answered a later command of its session.
        tuple(api("/system/identity/print"))
        other.path("ip", "address").add(address="10.8.8.1/24", interface="ether3")
        word, words = api.protocol.readSentence()
        check("librouteros: listen sees another session's add",
              (word, ".tag=l" in words, "=address=10.8.8.1/24" in words), ("!re", True, True))
        api.protocol.writeSentence("/cancel", "=tag=l", ".tag=c")
        tags = (".tag=l", ".tag=c")
        check("librouteros: cancel answers in the documented order", raw_sentences(api, tags, 3), [
            ("!trap", (".tag=l", "=message=interrupted")),
            ("!done", (".tag=c",)),
            ("!done", (".tag=l",)),
        ])
        # A listen cancelled before any row, 7.18+: trap, the cancel's done, !empty, done.
        api.protocol.writeSentence("/interface/listen", ".tag=q")
        tuple(api("/system/identity/print"))
        api.protocol.writeSentence("/cancel", "=tag=q", ".tag=d")
        tags = (".tag=q", ".tag=d")
        check("librouteros: an empty listen cancelled answers !empty", raw_sentences(api, tags, 4), [
            ("!trap", (".tag=q", "=message=interrupted")),
            ("!done", (".tag=d",)),
            ("!empty", (".tag=q",)),
            ("!done", (".tag=q",)),
        ])
        other.close()
        api.close()

    with Mock("--user", "admin:pw", "--legacy-login", "--routeros6") as mock:
        api = librouteros.connect(mock.host, "admin", "pw", port=mock.port, timeout=10,
                                  login_method=legacy_login)
        rows = list(api.path("interface").select(Key("name")).where(Key("running") == False))  # noqa: E712
        check("librouteros: the MD5 login, then a RouterOS 6 query", rows, [{"name": "ether5"}])
        resource = list(api.path("system", "resource"))[0]
        check("librouteros: one RouterOS 6 flavour", resource["version"].startswith("6.44."), True)
        api.close()


def routeros_api_flows():
    with Mock("--user", "admin:pw", "--legacy-login") as mock:
        # Login, the MD5 challenge (routeros-api's default).
        pool = routeros_api.RouterOsApiPool(mock.host, username="admin", password="pw", port=mock.port)
        api = pool.get_api()
        names = [r["name"] for r in api.get_resource("/interface").get(type="ether", running="no")]
        check("routeros-api: the MD5 login, then print ?type=ether ?running=no", names, ["ether5"])
        pool.disconnect()

    with Mock("--user", "admin:pw", "--empty-replies") as mock:
        pool = routeros_api.RouterOsApiPool(mock.host, username="admin", password="pw", port=mock.port,
                                            plaintext_login=True)
        api = pool.get_api()
        addresses = api.get_resource("/ip/address")
        rows = addresses.get(interface="bridge")
        check("routeros-api: print with a query", [(r["address"], r["disabled"]) for r in rows],
              [("192.168.88.1/24", "false")])
        done = addresses.add(address="10.9.9.1/24", interface="ether2").done_message
        check("routeros-api: add returns the new id", done.get("ret"), "*3")
        addresses.set(id="*3", comment="lab", disabled="yes")
        rows = addresses.get(comment="lab")
        check("routeros-api: set is printed back typed (yes -> true on 7)",
              [(r["id"], r["disabled"]) for r in rows], [("*3", "true")])
        addresses.remove(id="*3")
        check("routeros-api: removed, and an empty print (!empty) is no rows", list(addresses.get(comment="lab")), [])
        try:
            addresses.add(address="10.1.1.1/24", interface="ether2", colour="x")
            check("routeros-api: an unknown parameter traps", "added", "trap")
        except RouterOsApiCommunicationError as e:
            check("routeros-api: an unknown parameter traps", e.original_message, b"unknown parameter colour")

        # Listen, then cancel: the listen ends with its interrupted trap.
        listen = api.get_binary_resource("/ip/address").call_async("listen")
        api.get_binary_resource("/system/identity").call("print")
        other = routeros_api.RouterOsApiPool(mock.host, username="admin", password="pw", port=mock.port,
                                             plaintext_login=True)
        other.get_api().get_resource("/ip/address").add(address="10.8.8.1/24", interface="ether3")
        rows = iter(listen)
        first = next(rows)
        check("routeros-api: listen sees another session's add", first.get("address"), b"10.8.8.1/24")
        # routeros-api keeps the tag on the promise it wraps.
        tag = getattr(listen, "tag", None) or listen.inner.tag
        api.get_binary_resource("/").call("cancel", {"tag": tag})
        try:
            next(rows)
            check("routeros-api: a cancelled listen ends with a trap", "more rows", "interrupted")
        except RouterOsApiCommunicationError as e:
            check("routeros-api: a cancelled listen ends with a trap", e.original_message, b"interrupted")
        other.disconnect()
        pool.disconnect()


def main():
    # A stray mock binary that does not start is a failure, not a hang.
    socket.setdefaulttimeout(10)
    librouteros_flows()
    routeros_api_flows()
    if FAILURES:
        print(f"\n{len(FAILURES)} mismatch(es)")
        sys.exit(1)
    print("\nevery flow matched")


main()
