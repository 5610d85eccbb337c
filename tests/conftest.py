"""Fixtures every test may use. Worker fixtures live in tests/worker.py."""

import os

import pytest
import redis
from channels.layers import channel_layers
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from agents.catalog import catalog_ensure
from billing.pricing import tool_prices_ensure
from config.settings.base import DATABASE_CACHES
from config.settings.components.channels import channel_layers_for
from tests.community.factories import UserFactory
from tests.utils import database_url

pytest_plugins = [
    "tests.database",
    "tests.worker",
    "tests.billing.stripe_fixtures",
    "tests.config.fuzz_report",
]


@pytest.fixture(scope="session")
def test_database_url(django_db_setup, django_db_blocker) -> str:
    """The URL of the test database, for processes the tests start.

    The database cache table is created whatever this process's cache is: a
    worker started without REDIS_URL keeps its heartbeat there.
    """
    with django_db_blocker.unblock():
        with override_settings(CACHES=DATABASE_CACHES):
            call_command("createcachetable", verbosity=0)
        return database_url(connection.settings_dict)


@pytest.fixture(scope="session", autouse=True)
def _redis_database_emptied():
    """The suite owns its Redis database (under xdist, each process its own:
    config/settings/test.py): emptied first, or a task an earlier session
    queued and never ran would be taken by this session's workers, for a run
    id that names another run in a database copied afresh."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()


@pytest.fixture(scope="session", autouse=True)
def _channel_layer_on_test_database(test_database_url, _redis_database_emptied):
    """Point the PostgreSQL channel layer at the test database.

    Settings were computed before pytest-django renamed the database; the layer
    keeps its own connection settings, so it is rebuilt here.
    """
    from django.conf import settings

    settings.CHANNEL_LAYERS = channel_layers_for(
        os.environ.get("REDIS_URL", ""), test_database_url
    )
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def _celery_on_test_database(test_database_url):
    """Publish tasks where test workers listen: the PostgreSQL broker lives in
    the test database, not the one settings named before pytest-django renamed
    it (with REDIS_URL both sides use Redis)."""
    from config.celery import app
    from config.settings.components.celery import broker_url_for

    # Every app's tasks module, as a worker imports them at start: close()
    # below unregisters the app, after which a shared task imported later
    # would be missing from it once the first .delay() has finalized it.
    app.autodiscover_tasks(force=True)
    original = app.conf.broker_url
    app.close()  # drop the producer pool built for the old URL
    app.conf.broker_url = broker_url_for(
        os.environ.get("REDIS_URL", ""), test_database_url
    )
    yield
    app.close()
    app.conf.broker_url = original


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def as_user(api_client):
    """The API client, authenticated as the given user (re-call to switch)."""

    def sign_in(user):
        api_client.force_authenticate(user)
        return api_client

    return sign_in


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client


def pytest_unconfigure(config):
    """Stop the embedded test database if this session started it."""
    from config import embedded_db

    embedded_db.stop_if_started_here()


class _Catalog:
    """Whether the test database holds the catalog now: true once it was
    ensured and committed, until a transactional test's flush empties the
    tables again (other tests roll back whatever they change)."""

    present = False


@pytest.fixture(autouse=True)
def _model_catalog(request, django_db_blocker):
    """The model catalog and tool prices, which migrations load and which the
    flush after each transactional test removes: ensured (15 queries) only
    when a flush may have removed them."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        yield
        return
    transactional = bool(
        (marker and marker.kwargs.get("transaction"))
        or names & {"transactional_db", "live_server"}
    )
    if not _Catalog.present:
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            # Committed, unless a fixture already opened the test's
            # transaction: then it is rolled back with it, and ensured again.
            _Catalog.present = not connection.in_atomic_block
            catalog_ensure()
            tool_prices_ensure()
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    if transactional:
        _Catalog.present = False


@pytest.fixture
def fragment_cache(settings):
    """The fragment cache in local memory, emptied (the test settings use a
    dummy cache, so pages render afresh unless a test asks for this)."""
    settings.CACHES = {
        **settings.CACHES,
        "fragments": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "fragment-tests",
        },
    }
    caches["fragments"].clear()
    yield caches["fragments"]
    caches["fragments"].clear()
