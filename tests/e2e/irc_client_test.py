#!/usr/bin/python3
"""End-to-end: real IRC clients (Debian's python3-irc library) talk through simul-server.

Usage: irc_client_test.py PATH/TO/simul-server [--model async|threaded]
Starts the server on free ports, connects two clients, and checks that a room message, a
private message, a NICK change, a TOPIC, a PART and a QUIT all cross between them.
Exits 0 when every check passes; every wait has a deadline.
"""
import re
import subprocess
import sys
import threading
import time

import irc.client

DEADLINE_S = 20


def start_server(binary, model):
    proc = subprocess.Popen(
        [binary, "--model", model, "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0",
         "--log-level", "info"],
        stderr=subprocess.PIPE, text=True)
    found = {}
    ready = threading.Event()

    def pump():
        for line in proc.stderr:
            m = re.search(r"chat=(\d+)", line)
            if m and not ready.is_set():
                found["port"] = int(m.group(1))
                ready.set()
    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(10):
        proc.kill()
        sys.exit("server did not start")
    return proc, found["port"]


class Client:
    def __init__(self, reactor, port, nick):
        self.events = []
        self.conn = reactor.server().connect("127.0.0.1", port, nick, username=nick, ircname=nick)
        self.conn.add_global_handler("all_events", self.record)

    def record(self, conn, event):
        self.events.append(event)

    def seen(self, kind, pred=lambda e: True):
        return any(e.type == kind and pred(e) for e in self.events)


def wait_until(reactor, cond, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        reactor.process_once(0.05)
        if cond():
            return True
    print(f"FAIL: {what}")
    return False


def main():
    binary = sys.argv[1]
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else "async"
    proc, port = start_server(binary, model)
    results = []
    try:
        reactor = irc.client.IRC()  # called Reactor in newer releases
        alice = Client(reactor, port, "alice")
        bob = Client(reactor, port, "bob")

        def check(cond, what):
            ok = wait_until(reactor, cond, what)
            results.append(ok)
            if ok:
                print(f"ok: {what}")

        check(lambda: alice.seen("welcome") and bob.seen("welcome"), "both clients registered (001)")
        alice.conn.join("#e2e")
        bob.conn.join("#e2e")
        check(lambda: alice.seen("join", lambda e: e.source.nick == "bob"), "alice sees bob join #e2e")
        check(lambda: bob.seen("namreply"), "bob got the NAMES list")

        alice.conn.privmsg("#e2e", "hello room")
        check(lambda: bob.seen("pubmsg", lambda e: e.arguments == ["hello room"] and e.source.nick == "alice"),
              "bob receives alice's room message")
        bob.conn.privmsg("alice", "hello alice")
        check(lambda: alice.seen("privmsg", lambda e: e.arguments == ["hello alice"]), "alice receives a private message")

        bob.conn.topic("#e2e", "simul testing")
        check(lambda: alice.seen("topic", lambda e: e.arguments == ["simul testing"]), "alice sees the new topic")

        bob.conn.nick("bobby")
        check(lambda: alice.seen("nick", lambda e: e.target == "bobby"), "alice sees bob become bobby")
        alice.conn.privmsg("bobby", "renamed?")
        check(lambda: bob.seen("privmsg", lambda e: e.arguments == ["renamed?"]), "a message reaches the new nick")

        alice.conn.privmsg("#nowhere", "x")
        check(lambda: alice.seen("cannotsendtochan") or alice.seen("nosuchnick"), "sending to a room one is not in fails")

        bob.conn.part("#e2e", "leaving")
        check(lambda: alice.seen("part", lambda e: e.source.nick == "bobby"), "alice sees bobby part")
        bob.conn.quit("bye")
        check(lambda: not bob.conn.is_connected(), "bobby's QUIT closes the connection")
        alice.conn.quit("done")
    finally:
        proc.terminate()
        try:
            code = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -1
    results.append(code == 0)
    print(f"server exit code {code}")
    passed, failed = results.count(True), results.count(False)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
