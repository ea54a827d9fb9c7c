#!/usr/bin/python3
"""End-to-end: real IRC clients (Debian's python3-irc library) talk through simul-server.

Usage: irc_client_test.py PATH/TO/simul-server [--model async|threaded]
Starts the server on free ports, connects three clients, and checks that a room message, a
private message, a NICK change, a TOPIC, a PART and a QUIT all cross between them, and that the
room's creator is its operator: +t, +v, KICK, INVITE into a +i room, a +k room's key, an AWAY
reply, WHOIS and LIST behave as a client expects.
Exits 0 when every check passes; every wait has a deadline.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import irc.client

DEADLINE_S = 20
# Operator "root" with password "secret", as a crypt(3) hash (openssl passwd -6 -salt simulsalt secret).
OPERATORS = "root $6$simulsalt$rUwkpYCMMkT8UZEaRYSwvNpCnoU.qctdTpaOrPuE8fpVGX2GoQMrkFmL6BhQbiblEu3JF/xguKxCWysdA3zFH1"


def start_server(binary, model, config_path):
    proc = subprocess.Popen(
        [binary, "--config", config_path, "--model", model, "--echo-port", "0", "--chat-port", "0",
         "--metrics-port", "0", "--log-level", "info"],
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
        # Handlers are global to the reactor: keep only this connection's events.
        if conn is self.conn:
            self.events.append(event)

    def seen(self, kind, pred=lambda e: True):
        return self.count(kind, pred) > 0

    def count(self, kind, pred=lambda e: True):
        return sum(1 for e in self.events if e.type == kind and pred(e))


def wait_until(reactor, cond, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        reactor.process_once(0.05)
        if cond():
            return True
    print(f"FAIL: {what}")
    return False


def dump(*clients):
    for c in clients:
        for e in c.events[-12:]:
            print(f"  {c.conn.get_nickname()}: {e.type} {e.source} {e.target} {e.arguments}")


def main():
    binary = sys.argv[1]
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else "async"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(f'chat:\n  operators: "{OPERATORS}"\n')
    proc, port = start_server(binary, model, f.name)
    os.unlink(f.name)
    results = []
    try:
        reactor = irc.client.IRC()  # called Reactor in newer releases
        alice = Client(reactor, port, "alice")
        bob = Client(reactor, port, "bob")
        others = []

        def check(cond, what):
            ok = wait_until(reactor, cond, what)
            results.append(ok)
            if ok:
                print(f"ok: {what}")
            else:
                dump(alice, bob, *others)

        check(lambda: alice.seen("welcome") and bob.seen("welcome"), "both clients registered (001)")
        alice.conn.join("#e2e")
        check(lambda: alice.seen("join", lambda e: e.source.nick == "alice"), "alice creates #e2e")
        bob.conn.join("#e2e")
        check(lambda: alice.seen("join", lambda e: e.source.nick == "bob"), "alice sees bob join #e2e")
        check(lambda: bob.seen("namreply"), "bob got the NAMES list")

        alice.conn.privmsg("#e2e", "hello room")
        check(lambda: bob.seen("pubmsg", lambda e: e.arguments == ["hello room"] and e.source.nick == "alice"),
              "bob receives alice's room message")
        bob.conn.privmsg("alice", "hello alice")
        check(lambda: alice.seen("privmsg", lambda e: e.arguments == ["hello alice"]), "alice receives a private message")

        check(lambda: bob.seen("namreply", lambda e: "@alice" in e.arguments[2].split()),
              "the room's creator is its operator (@alice in NAMES)")
        bob.conn.topic("#e2e", "not allowed")
        check(lambda: bob.seen("chanoprivsneeded"), "+t (default): bob may not set the topic (482)")
        alice.conn.topic("#e2e", "simul testing")
        check(lambda: bob.seen("topic", lambda e: e.arguments == ["simul testing"]), "bob sees the operator's topic")
        alice.conn.mode("#e2e", "+v bob")
        check(lambda: bob.seen("mode", lambda e: e.arguments == ["+v", "bob"]), "bob sees alice give him +v")

        carol = Client(reactor, port, "carol")
        others.append(carol)
        check(lambda: carol.seen("welcome"), "carol registered")
        carol.conn.join("#e2e")
        check(lambda: alice.seen("join", lambda e: e.source.nick == "carol"), "carol joins #e2e")
        alice.conn.kick("#e2e", "carol", "out you go")
        check(lambda: carol.seen("kick", lambda e: e.arguments == ["carol", "out you go"]), "carol sees her KICK")
        alice.conn.mode("#e2e", "+i")
        # Carol joins only once the room is +i: her JOIN and alice's MODE travel on different
        # connections, and the server may take them in either order.
        check(lambda: alice.seen("mode", lambda e: e.target == "#e2e" and e.arguments == ["+i"]),
              "alice sets #e2e invite-only")
        carol.conn.join("#e2e")
        check(lambda: carol.seen("inviteonlychan"), "+i: carol cannot rejoin uninvited (473)")
        alice.conn.invite("carol", "#e2e")
        check(lambda: carol.seen("invite", lambda e: e.arguments == ["#e2e"]) and alice.seen("inviting"),
              "carol is invited (INVITE) and alice told so (341)")
        carol.conn.join("#e2e")
        check(lambda: alice.count("join", lambda e: e.source.nick == "carol" and e.target == "#e2e") == 2,
              "the invited carol joins the +i room")

        alice.conn.join("#locked")
        alice.conn.mode("#locked", "+k sesame")
        check(lambda: alice.seen("mode", lambda e: e.target == "#locked" and e.arguments == ["+k", "sesame"]),
              "alice sets a key on #locked")
        carol.conn.join("#locked")
        check(lambda: carol.seen("badchannelkey"), "+k: joining without the key fails (475)")
        carol.conn.join("#locked", "sesame")
        check(lambda: alice.seen("join", lambda e: e.source.nick == "carol" and e.target == "#locked"),
              "joining with the key works")

        bob.conn.send_raw("AWAY :at lunch")
        check(lambda: bob.seen("nowaway"), "bob is marked away (306)")
        alice.conn.privmsg("bob", "are you there?")
        check(lambda: alice.seen("away", lambda e: e.arguments == ["bob", "at lunch"]), "alice gets bob's away reply (301)")
        alice.conn.whois(["bob"])
        check(lambda: alice.seen("whoisuser", lambda e: e.arguments[0] == "bob")
              and alice.seen("whoischannels", lambda e: "+#e2e" in e.arguments[1].split())
              and alice.seen("endofwhois"), "WHOIS bob answers 311, 319 (+#e2e) and 318")
        carol.conn.list()
        check(lambda: carol.seen("list", lambda e: e.arguments[0] == "#e2e" and e.arguments[1] == "3")
              and carol.seen("listend"), "LIST shows #e2e with its 3 users")
        bob.conn.send_raw("AWAY")
        check(lambda: bob.seen("unaway"), "bob is back (305)")

        carol.conn.oper("root", "wrong")
        check(lambda: carol.seen("passwdmismatch"), "OPER with a wrong password fails (464)")
        alice.conn.oper("root", "secret")
        check(lambda: alice.seen("youreoper"), "OPER with the configured password works (381)")
        alice.conn.mode("alice", "+w")
        alice.conn.send_raw("WALLOPS :hello operators")
        check(lambda: alice.seen("wallops", lambda e: "hello operators" in [e.target, *e.arguments]),
              "WALLOPS reaches +w users")
        alice.conn.send_raw("KILL carol :enough")
        check(lambda: carol.seen("kill") and bob.seen("quit", lambda e: e.source.nick == "carol"
                                                      and "Killed (alice (enough))" in e.arguments[0]),
              "KILL: carol is told, her peers see her QUIT")

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
