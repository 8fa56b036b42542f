"""The program localmarathon runs for a ``pgbouncer`` image (edoburu/pgbouncer, bitnami/pgbouncer...):
a session-mode TCP pooler in front of one database server, configured like edoburu/pgbouncer.

Each client connection gets one server connection for its whole session, as pgbouncer's
``pool_mode=session`` does; at most DEFAULT_POOL_SIZE server connections are open at once and
further clients wait for one to be released; more than MAX_CLIENT_CONN clients are refused.
Unlike pgbouncer it does not keep server connections open between sessions nor read the
PostgreSQL protocol: bytes are relayed as they are, so authentication is the server's own.

Environment: DB_HOST (default 127.0.0.1), DB_PORT (5432), LISTEN_ADDR (127.0.0.1), LISTEN_PORT
(5432), DEFAULT_POOL_SIZE (20), MAX_CLIENT_CONN (100). Standalone: run by path, no package import.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass


class Pooler:
    def __init__(self, db_host: str, db_port: int, pool_size: int, max_clients: int):
        self.db_host, self.db_port = db_host, db_port
        self.slots = asyncio.Semaphore(pool_size)
        self.max_clients = max_clients
        self.clients = 0

    async def serve_client(self, client_reader, client_writer) -> None:
        if self.clients >= self.max_clients:
            client_writer.close()
            return
        self.clients += 1
        try:
            async with self.slots:
                try:
                    server_reader, server_writer = await asyncio.open_connection(self.db_host, self.db_port)
                except OSError as exc:
                    print(f"pooler: cannot reach {self.db_host}:{self.db_port}: {exc}", file=sys.stderr, flush=True)
                    return
                try:
                    await asyncio.gather(_relay(client_reader, server_writer), _relay(server_reader, client_writer))
                except asyncio.CancelledError:
                    pass  # shutting down with sessions open
                server_writer.close()
        finally:
            self.clients -= 1
            client_writer.close()


async def main() -> int:
    env = os.environ
    pooler = Pooler(env.get("DB_HOST", "127.0.0.1"), int(env.get("DB_PORT", "5432")),
                    int(env.get("DEFAULT_POOL_SIZE", "20")), int(env.get("MAX_CLIENT_CONN", "100")))
    listen = (env.get("LISTEN_ADDR", "127.0.0.1"), int(env.get("LISTEN_PORT", "5432")))
    server = await asyncio.start_server(pooler.serve_client, *listen)
    print(f"pooler: listening on {listen[0]}:{listen[1]}, server {pooler.db_host}:{pooler.db_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
