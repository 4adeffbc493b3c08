"""docker-compose.yaml's Redis entrypoint, run against Debian's redis-server (no Docker here): the append-only
file is on, and a volume from before it keeps its data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def run_redis_entrypoint(compose, data: Path) -> tuple[list[str], int]:
    """The compose redis service's entrypoint run against Debian's redis-server, with ``data`` for its volume and a
    socket there for its port; the redis-cli arguments to reach it, and the server's PID."""
    script = compose["services"]["redis"]["entrypoint"][2].replace("$$", "$").replace("/data", str(data))
    cli = ["redis-cli", "-s", str(data / "redis.sock")]
    script = script.replace("redis-cli", " ".join(cli)).replace(
        "exec docker-entrypoint.sh redis-server -",
        f"exec redis-server - --port 0 --unixsocket {data}/redis.sock --dir {data} --daemonize yes"
        f" --pidfile {data}/redis.pid --logfile {data}/redis.log",
    )
    env = {**os.environ, "REDIS_PASSWORD": "compose-test", "REDISCLI_AUTH": "compose-test"}
    subprocess.run(["sh", "-c", script], env=env, check=True, timeout=30)
    for _ in range(100):
        if subprocess.run([*cli, "PING"], env=env, capture_output=True, text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.1)
    return cli, int((data / "redis.pid").read_text())


def test_redis_keeps_an_append_only_file_and_a_volume_from_before_it_keeps_its_data(compose, tmp_path):
    env = {**os.environ, "REDISCLI_AUTH": "compose-test"}

    def ask(cli, *command) -> str:
        return subprocess.run([*cli, *command], env=env, capture_output=True, text=True, check=True).stdout.strip()

    # a volume from before the append-only file: an RDB snapshot alone
    cli = ["redis-cli", "-s", str(tmp_path / "redis.sock")]
    subprocess.run(["redis-server", "--port", "0", "--unixsocket", cli[2], "--dir", str(tmp_path), "--save", "",
                    "--daemonize", "yes"], check=True, timeout=10)  # fmt: skip
    for _ in range(100):
        if subprocess.run([*cli, "SET", "before", "1"], capture_output=True, text=True).stdout.strip() == "OK":
            break
        time.sleep(0.1)
    subprocess.run([*cli, "SHUTDOWN", "SAVE"], capture_output=True, timeout=10)
    assert (tmp_path / "dump.rdb").exists() and not (tmp_path / "appendonlydir").exists()
    (tmp_path / "appendonlydir").mkdir()  # as a first writing of the AOF cut short leaves it: no manifest yet

    cli, pid = run_redis_entrypoint(compose, tmp_path)
    try:
        assert ask(cli, "GET", "before") == "1"  # loaded from the RDB, not from an empty new AOF
        for _ in range(300):  # then the AOF is written from the data held
            info = ask(cli, "INFO", "persistence")
            if "aof_enabled:1" in info and not re.search(r"aof_rewrite_(in_progress|scheduled):1", info):
                break
            time.sleep(0.1)
        assert ask(cli, "CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
        assert (tmp_path / "appendonlydir" / "appendonly.aof.manifest").exists()
        assert ask(cli, "CONFIG", "GET", "appendfsync").split() == ["appendfsync", "everysec"]
        assert ask(cli, "SET", "acknowledged", "2") == "OK"
    finally:
        os.kill(pid, signal.SIGKILL)  # a crash: nothing is saved on the way down
    cli, pid = run_redis_entrypoint(compose, tmp_path)
    try:
        assert ask(cli, "MGET", "before", "acknowledged").split() == ["1", "2"]
        assert ask(cli, "CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
    finally:
        os.kill(pid, signal.SIGKILL)
