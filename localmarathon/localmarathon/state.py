"""Persistent state of one localmarathon "cluster" in DATA/state.json.

Marathon keeps apps, versions, deployments and instances in ZooKeeper, so a restarted Marathon sees
them again; this store plays that role. Writes are atomic (temp file + fsync + rename), so a crash
never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

SCHEMA = 1


class StateStore:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "state.json"
        self._lock = threading.Lock()

    def load(self) -> dict | None:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return None
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"{self.path}: not a localmarathon state file (schema {SCHEMA})")
        return data

    def save(self, data: dict, durable: bool = False) -> None:
        """Atomic replace; ``durable`` also fsyncs (only worth it at shutdown: a crash of this
        process cannot tear a renamed file, and fsync under the cluster lock would stall requests)."""
        data = dict(data, schema=SCHEMA)
        text = json.dumps(data, separators=(",", ":"), sort_keys=False)
        with self._lock:
            fd, tmp = tempfile.mkstemp(prefix=".state.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                    if durable:
                        fh.flush()
                        os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
