"""Security headers, on what the app really sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from survey.definitions import SurveyDefinition
from survey.settings import Settings
from survey.web.app import create_app


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return dict(parts)


def test_pages_get_a_strict_policy_and_are_never_cached(client: TestClient) -> None:
    for path in (
        "/",
        "/s/libraries-abroad",
        "/s/libraries-abroad?embed=1",
        "/s/libraries-abroad/thanks",
        "/s/nope",
        "/api/surveys/libraries-abroad",
    ):
        response = client.get(path)
        policy = directives(response.headers["content-security-policy"])
        assert policy["default-src"] == "'self'", path
        assert policy["script-src"] == "'self'", path  # no inline script, no other host
        assert policy["form-action"] == "'self'", path
        assert policy["object-src"] == "'none'", path
        assert "frame-ancestors" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["permissions-policy"]
        # A form page carries a token for one view: no shared cache may keep it.
        assert response.headers["cache-control"] == "no-store", path


def test_static_files_may_be_cached_and_docs_keep_their_assets(
    client: TestClient, settings: Settings
) -> None:
    css = client.get("/static/survey.css")
    assert css.headers.get("cache-control") != "no-store"
    # The docs are off by default (#13); turned on, they keep their CDN assets.
    assert client.get("/docs").status_code == 404
    with TestClient(create_app(settings.model_copy(update={"api_docs": True}))) as enabled:
        docs = enabled.get("/docs")
    assert docs.status_code == 200
    assert directives(docs.headers["content-security-policy"]) == {"frame-ancestors": "'none'"}


@pytest.fixture
def host_checked(database_url: str, bundled: SurveyDefinition) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, allowed_hosts_setting="surveys.example.org")
    with TestClient(create_app(settings), base_url="http://surveys.example.org") as client:
        yield client


def test_an_unknown_host_is_refused_when_hosts_are_configured(host_checked: TestClient) -> None:
    assert host_checked.get("/healthz").status_code == 200
    assert host_checked.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_hsts_is_sent_when_the_public_address_is_https(
    client: TestClient, settings: Settings
) -> None:
    assert "strict-transport-security" not in client.get("/").headers
    https = settings.model_copy(update={"public_url": "https://surveys.example.org"})
    with TestClient(create_app(https)) as secure:
        for path in ("/", "/s/libraries-abroad", "/admin/login", "/healthz"):
            assert secure.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_oembed_is_cacheable_only_when_the_address_is_configured(
    client: TestClient, settings: Settings
) -> None:
    url = {"url": "http://testserver/s/libraries-abroad"}
    assert client.get("/oembed", params=url).headers["cache-control"] == "no-store"
    configured = settings.model_copy(update={"public_url": "http://testserver"})
    with TestClient(create_app(configured)) as pinned:
        assert pinned.get("/oembed", params=url).headers["cache-control"] == "public, max-age=300"
