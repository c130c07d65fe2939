#!/usr/bin/env python3
"""The Service in front of the karmada-takeover replicas, for the end-to-end suite.

    lb.py LISTEN_HOST:PORT BACKEND_HOST:PORT...

A TCP round robin (TLS passes through untouched, as through a ClusterIP Service): each new
connection goes to the next backend; a backend that refuses the connection is skipped, as
kube-proxy skips endpoints of pods that are gone. Loopback only.
"""
import asyncio
import itertools
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    backends = [b.rsplit(":", 1) for b in sys.argv[2:]]
    turn = itertools.cycle(range(len(backends)))

    async def handle(client_reader, client_writer):
        first = next(turn)
        for i in range(len(backends)):
            bhost, bport = backends[(first + i) % len(backends)]
            try:
                up_reader, up_writer = await asyncio.open_connection(bhost, int(bport))
            except OSError:
                continue
            await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
            return
        client_writer.close()

    server = await asyncio.start_server(handle, host, int(port))
    print(f"lb: {sys.argv[1]} -> {', '.join(sys.argv[2:])}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
