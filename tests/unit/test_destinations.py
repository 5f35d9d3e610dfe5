"""Who may be called: the allow-list and the SIP hosts refused without one (pure decisions)."""

from __future__ import annotations

import pytest

from airflow_provider_videosdk.destinations import check_destination, parse_allow_list, refusal
from airflow_provider_videosdk.exceptions import VideoSDKInputError

# The examples: accepted by validation, and each one would point the SIP gateway somewhere internal.
RISKY = {
    "sip:x@169.254.169.254:80;transport=tcp": "its host '169.254.169.254' is an IP address",
    "sip:x@[::1]": "its host '[::1]' is an IP address",
    "sip:x@localhost": "its host 'localhost' is a loopback name",
    "sip:x@a.localhost": "its host 'a.localhost' is a loopback name",
    "sip:x@2130706433": "its host '2130706433' is an IP address",
    "sip:x@trusted.example;maddr=attacker.example": "it has a maddr parameter ('attacker.example')",
    "sip:x@trusted.example;MADDR=10.0.0.1": "it has a maddr parameter ('10.0.0.1')",
}


@pytest.mark.parametrize(("to", "reason"), RISKY.items())
def test_sip_uris_that_reroute_or_point_at_ip_or_loopback_hosts_are_refused_without_a_list(
    to: str, reason: str
) -> None:
    refused = refusal(to, ())
    assert refused is not None and refused.startswith(reason)
    assert "allowed_destinations" in refused


def test_without_a_list_public_numbers_and_sip_domains_may_be_called() -> None:
    assert refusal("+14155550100", ()) is None
    assert refusal("sip:+14155550100@sip.example.com:5061;transport=tls", ()) is None


def test_with_a_list_only_its_prefixes_and_domains_may_be_called() -> None:
    allowed = parse_allow_list("+1415, +44 sip.example.com,*.corp.example")
    assert allowed == ("+1415", "+44", "sip.example.com", "*.corp.example")
    assert refusal("+14155550100", allowed) is None
    assert refusal("+447911123456", allowed) is None
    assert refusal("sip:bob@sip.example.com", allowed) is None
    assert refusal("sip:bob@pbx.corp.example", allowed) is None
    assert refusal("+12125550100", allowed) == (
        "it starts with no E.164 prefix of the connection's allowed_destinations (prefixes: +1415, +44)"
    )
    assert refusal("sip:bob@corp.example", allowed) == (
        "its host 'corp.example' is no SIP domain of the connection's allowed_destinations "
        "(domains: sip.example.com, *.corp.example)"
    )
    assert refusal("sip:bob@sip.example.com.evil.example", allowed) is not None
    assert "prefixes: none" in (refusal("+14155550100", ("sip.example.com",)) or "")


def test_a_risky_host_may_be_called_when_the_list_names_it() -> None:
    assert refusal("sip:x@10.0.0.5", ("10.0.0.5",)) is None
    assert refusal("sip:x@[::1]", ("[0:0::1]",)) is None
    assert refusal("sip:x@trusted.example;maddr=gw.example", ("trusted.example", "gw.example")) is None
    # The host named, the maddr not: still refused.
    assert refusal("sip:x@trusted.example;maddr=gw.example", ("trusted.example",)) is not None
    # A wildcard does not reach an IP address.
    assert refusal("sip:x@10.0.0.5", ("*.example.com",)) is not None


def test_the_refusal_names_the_field_shows_it_masked_and_says_nothing_was_sent() -> None:
    with pytest.raises(VideoSDKInputError) as err:
        check_destination("to", "+12125550100", ("+1415",), shown="+****0100")
    assert str(err.value).startswith("to '+****0100' is refused before anything was sent: it starts with no")
    assert "2125550100" not in str(err.value)


@pytest.mark.parametrize("bad", ["+", "1415", "sip:x@example.com", "exa mple.com;", "+1 415"])
def test_a_bad_entry_is_refused_naming_the_field_and_the_expected_form(bad: str) -> None:
    with pytest.raises(VideoSDKInputError, match=r"allowed_destinations .*must each be an E\.164 prefix"):
        parse_allow_list([bad])


def test_a_list_given_as_json_or_as_text_reads_the_same() -> None:
    assert parse_allow_list(["+1415", " Sip.Example.com "]) == parse_allow_list("+1415 sip.example.com")
    with pytest.raises(VideoSDKInputError, match="must be a list of strings or one comma-separated string"):
        parse_allow_list(42)
