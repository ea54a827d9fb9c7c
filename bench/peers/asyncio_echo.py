#!/usr/bin/env python3
"""asyncio_echo: the reference Python asyncio echo server for bench/.

Python was the seeds' language; this is the best plain asyncio can do for an echo workload, to set
the C++ servers against. It uses the Protocol API (callbacks, no coroutine per connection) because
that is asyncio's fastest path; streams would measure the StreamReader layer, not the event loop.

    asyncio_echo.py [--bind ADDR] [--port N] [--uvloop]

Prints "listening on ADDR:PORT" on stdout once the listener is up (port 0: the kernel picks), exits 0
on SIGTERM or SIGINT. --uvloop runs the same code on uvloop (Debian's python3-uvloop; it installs for
Debian's /usr/bin/python3, so run this file with that interpreter).

Backpressure: when a client stops reading and its transport's write buffer passes the high-water
mark, asyncio calls pause_writing(), and we stop reading that client until resume_writing(). Per
connection we hold at most about one read plus the high-water mark, never an unbounded queue.
"""

import argparse
import asyncio
import signal
import socket
import sys

HIGH_WATER = 64 * 1024


class Echo(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def serve(bind, port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    server = await loop.create_server(Echo, bind, port, backlog=4096, reuse_address=True)
    host, bound_port = server.sockets[0].getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on {shown}:{bound_port}", flush=True)
    await stop
    server.close()
    await server.wait_closed()


def raise_fd_limit():
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass  # a lower limit only means fewer clients


def main():
    ap = argparse.ArgumentParser(description="asyncio echo server (reference peer for bench/)")
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=7007, help="port, 0 = any (default 7007)")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop (Debian: python3-uvloop)")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        ap.error("--port wants 0..65535")

    raise_fd_limit()
    if args.uvloop:
        try:
            import uvloop
        except ImportError:
            print(f"asyncio_echo: --uvloop: uvloop is not importable from {sys.executable}; "
                  "install Debian's python3-uvloop and run with /usr/bin/python3", file=sys.stderr)
            return 2
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(serve(args.bind, args.port))
    except OSError as e:
        print(f"asyncio_echo: listen on {args.bind}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
