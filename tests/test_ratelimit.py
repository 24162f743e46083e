"""The pure parts of the rate limit: the setting, who the client is, the key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from survey.ratelimit import (
    RateLimit,
    client_address,
    client_key,
    parse_networks,
    parse_rate_limit,
)


def test_the_setting_reads_like_a_sentence() -> None:
    assert parse_rate_limit("30/minute") == RateLimit(30, 60)
    assert parse_rate_limit("5 / 10 minutes") == RateLimit(5, 600)
    assert parse_rate_limit("1000/hour") == RateLimit(1000, 3600)
    assert parse_rate_limit("off") is None
    for bad in ("30", "x/minute", "0/minute", "30/fortnight"):
        with pytest.raises(ValueError, match="is not a rate limit"):
            parse_rate_limit(bad)


def test_windows_are_fixed_and_end_where_the_next_begins() -> None:
    limit = RateLimit(30, 60)
    start, end = limit.window(datetime(2027, 1, 31, 18, 0, 42, tzinfo=UTC))
    assert (start, end) == (
        datetime(2027, 1, 31, 18, 0, tzinfo=UTC),
        datetime(2027, 1, 31, 18, 1, tzinfo=UTC),
    )


PROXIES = parse_networks("10.0.0.0/8, 192.0.2.1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # No trusted proxy in front: the header is anyone's to forge.
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        # Behind a trusted proxy: the right-most hop it did not add itself.
        ("10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.9.9.9", "198.51.100.7"),
        ("192.0.2.1", "198.51.100.7", "198.51.100.7"),
        # A trusted proxy with no header: the proxy itself.
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_the_key_hides_the_address_and_changes_every_day() -> None:
    monday = datetime(2027, 2, 1, 9, tzinfo=UTC)
    key = client_key("s" * 40, survey_id=1, address="198.51.100.7", now=monday)
    assert len(key) == 64
    assert "198.51.100.7" not in key
    assert key == client_key("s" * 40, survey_id=1, address="198.51.100.7", now=monday)
    tuesday = datetime(2027, 2, 2, 9, tzinfo=UTC)
    assert key != client_key("s" * 40, survey_id=1, address="198.51.100.7", now=tuesday)
    assert key != client_key("s" * 40, survey_id=2, address="198.51.100.7", now=monday)
    assert key != client_key("t" * 40, survey_id=1, address="198.51.100.7", now=monday)
