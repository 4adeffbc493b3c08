"""The four stores are the real servers, reached over real connections."""

from __future__ import annotations


def test_graph_store_is_neo4j_5_26_community(neo4j_driver):
    with neo4j_driver.session() as session:
        component = session.run("CALL dbms.components() YIELD name, versions, edition RETURN *").single()
    assert component["name"] == "Neo4j Kernel"
    assert component["edition"] == "community"
    assert component["versions"][0].startswith("5.26.")


def test_ledger_is_postgresql(pg):
    version = pg.execute("SHOW server_version_num").fetchone()[0]
    assert int(version) >= 150000
    assert pg.execute("SELECT version FROM schema_migration ORDER BY version").fetchall()[0][0] == "001_price_ledger"


def test_cache_is_redis(redis_client):
    assert redis_client.ping() is True
    assert redis_client.info("server")["redis_version"]


def test_vector_store_is_a_chroma_server(chroma_client):
    assert chroma_client.heartbeat() > 0


def test_no_password_is_on_a_command_line_while_services_sh_runs(tmp_path):
    """``ps`` shows every process's arguments to every user. strace records the arguments of every
    program services.sh and its children start: none holds a connection password."""
    import subprocess

    from tests.conftest import ROOT
    from tests.support import connection_secrets

    secrets = connection_secrets()
    assert secrets, "the tests' connections have passwords"
    for command in ("status", "start-test"):  # every command reads the connections; the test servers are up
        trace = tmp_path / f"{command}.strace"
        subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=execve", "-s", "100000", "-o", str(trace),
             str(ROOT / "scripts" / "services.sh"), command],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        started = [line for line in trace.read_text().splitlines() if "execve(" in line]
        assert [line.split(", [")[0] for line in started if any(s in line for s in secrets)] == []  # pid, program
        assert any('"-m", "axiom.connections", "parts"' in line for line in started), started[:3]
