"""Test-wide settings: offline, quiet, deterministic; fixtures for the run-index databases and a local Ray."""
import os
import secrets

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def local_ray():
    """A local Ray (2 CPUs, no dashboard) shared by the Ray tests of the session, shut down at the end."""
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


PG_URL = os.environ.get("GOVAUDIT_TEST_PG_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """The run index / ledger database: None (SQLite in the run store) or a fresh database on the PostgreSQL
    server at $GOVAUDIT_TEST_PG_URL (`make postgres` starts one); the PostgreSQL case is skipped without it."""
    if request.param == "sqlite":
        yield None
        return
    if not PG_URL:
        pytest.skip("GOVAUDIT_TEST_PG_URL is not set (`.ci/postgres.sh` starts a throwaway server)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"govaudit_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
