"""TwilioProvider.verify accepts exactly what twilio's RequestValidator.validate accepts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.sms import TwilioProvider
from tests.bot.conftest import TW_TOKEN

VALIDATOR = RequestValidator(TW_TOKEN)
PROVIDER = TwilioProvider(TW_TOKEN)

schemes = st.sampled_from(["http", "https"])
hosts = st.sampled_from(["sb.example.cn", "127.0.0.1", "shenbao.test"])
ports = st.sampled_from(["", ":80", ":443", ":8000"])
paths = st.sampled_from(["/webhooks/twilio/sms", "/webhooks/twilio/status?outbox=12&part=0", "/?a=%E4%B8%AD"])
text = st.text(st.characters(codec="utf-8"), max_size=12)  # no surrogates: they are not UTF-8
fields = st.sampled_from(["Body", "From", "To", "MessageSid", "NumMedia", "Odd Name", "x"])
forms = st.dictionaries(fields, text, max_size=6)


@st.composite
def signed(draw: st.DrawFn) -> tuple[str, dict[str, str], str]:
    """A request as received and a signature: over the same URL, the URL with another port (or none),
    another URL, other fields, or none that Twilio could have made."""
    scheme, host, port, path = draw(schemes), draw(hosts), draw(ports), draw(paths)
    url, form = f"{scheme}://{host}{port}{path}", draw(forms)
    how = draw(st.sampled_from(["same", "other_port", "other_url", "other_form", "garbage", "empty"]))
    if how == "same":
        signature = VALIDATOR.compute_signature(url, form)
    elif how == "other_port":
        signature = VALIDATOR.compute_signature(f"{scheme}://{host}{draw(ports)}{path}", form)
    elif how == "other_url":
        other = f"{draw(schemes)}://{draw(hosts)}{draw(ports)}{draw(paths)}"
        signature = VALIDATOR.compute_signature(other, form)
    elif how == "other_form":
        signature = VALIDATOR.compute_signature(url, draw(forms))
    elif how == "garbage":
        signature = draw(text)
    else:
        signature = ""
    return url, form, signature


@settings(max_examples=800, deadline=None)
@given(signed())
def test_verify_agrees_with_the_librarys_validate(case: tuple[str, dict[str, str], str]) -> None:
    url, form, signature = case
    expected = bool(signature) and VALIDATOR.validate(url, dict(form), signature)
    assert PROVIDER.verify(url, form, {"x-twilio-signature": signature}) == expected


def test_either_form_of_the_port_verifies_and_a_wrong_one_does_not() -> None:
    form = {"From": "+8613900001111", "Body": "我家房子倒了", "MessageSid": "SM" + "1" * 32}
    for signed_url, received_url in [
        ("https://sb.example.cn/webhooks/twilio/sms", "https://sb.example.cn:443/webhooks/twilio/sms"),
        ("https://sb.example.cn:443/webhooks/twilio/sms", "https://sb.example.cn/webhooks/twilio/sms"),
        ("http://sb.example.cn:80/webhooks/twilio/sms", "http://sb.example.cn/webhooks/twilio/sms"),
    ]:
        signature = VALIDATOR.compute_signature(signed_url, form)
        assert PROVIDER.verify(received_url, form, {"x-twilio-signature": signature})
    wrong_port = VALIDATOR.compute_signature("https://sb.example.cn:8443/webhooks/twilio/sms", form)
    assert not PROVIDER.verify("https://sb.example.cn/webhooks/twilio/sms", form,
                               {"x-twilio-signature": wrong_port})
    assert not PROVIDER.verify("https://sb.example.cn/webhooks/twilio/sms", form, {})
