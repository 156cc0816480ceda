"""The email and phone fast paths give exactly the answers of email-validator and phonenumbers.

``validation.normalise_*`` must equal ``validation.reference_*`` for every input; the fast path may
only ever answer UNSURE (defer) when it is not certain. Inputs: arbitrary strings and, above all,
near-valid ones: real numbers and addresses in every format, then mutated.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from mappings import validation
from mappings.fastpath import email as fast_email
from mappings.fastpath import phone as fast_phone

PROFILE = settings(derandomize=True, database=None, max_examples=300, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
REGIONS = ["US", "CA", "GB", "DE", "ES", "FR", "IT", "RU", "KZ", "AR", "BR", "MX", "IN", "CN", "JP", "AU", "CH",
           "NL", "BE", "SE", "AG", "GG", "JE", "IM", "VA", "AX", "FI"]
TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL,
           PhoneNumberFormat.RFC3966]
UNICODE_DIGITS = {"0": "０", "1": "١", "5": "۵", "7": "७"}


def reference_is_e164(value: str) -> bool:
    return re.fullmatch(r"\+[1-9][0-9]{6,14}", value) is not None and \
        validation.reference_normalise_phone(value) == value


def _examples() -> list[str]:
    found = []
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.extend(phonenumbers.format_number(number, f) for f in FORMATS)
    for code in (800, 808, 870, 882, 883):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.extend(phonenumbers.format_number(number, f) for f in FORMATS)
    return found


EXAMPLES = _examples()


def _mutate(rng: random.Random, text: str) -> str:
    choice = rng.randrange(14)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if choice == 0 and digits:  # change one digit
        i = rng.choice(digits)
        return text[:i] + rng.choice("0123456789") + text[i + 1:]
    if choice == 1 and digits:  # drop one digit
        i = rng.choice(digits)
        return text[:i] + text[i + 1:]
    if choice == 2 and digits:  # add one digit
        i = rng.choice(digits)
        return text[:i] + rng.choice("0123456789") + text[i:]
    if choice == 3:
        return text.replace(" ", rng.choice(["-", ".", "", "  ", "/", " - "]))
    if choice == 4:
        return rng.choice([" ", "Tel: ", "(", "+", "++", "00", "0", "1", "tel:", "\t"]) + text
    if choice == 5:
        return text + rng.choice([" ", ".", ")", " ext. 123", " x12", "#", ";ext=5", " (mobile)", ",,12", "\n"])
    if choice == 6 and digits:  # unicode digits
        return "".join(UNICODE_DIGITS.get(c, c) if rng.random() < 0.3 else c for c in text)
    if choice == 7:
        return text.replace("+", rng.choice(["00", "011", "", "+ ", "＋"]), 1)
    if choice == 8 and len(digits) > 4:  # wrap the area code in parentheses
        return text[:digits[1]] + "(" + text[digits[1]:digits[3]] + ")" + text[digits[3]:]
    if choice == 9:
        return text.replace("-", "")
    if choice == 10:
        return text[:len(text) // 2] + rng.choice(["a", "B", "O", "I", "*"]) + text[len(text) // 2:]
    if choice == 11:
        return "".join(c for c in text if c.isdigit() or c == "+")
    if choice == 12:
        return text + text[-3:]
    return text


@st.composite
def near_valid_phones(draw: st.DrawFn) -> tuple[str, str | None]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    text = rng.choice(EXAMPLES)
    for _ in range(draw(st.integers(0, 3))):
        text = _mutate(rng, text)
    region = draw(st.sampled_from([*REGIONS, None, "es", "ZZ", "001"]))
    return text, region


@PROFILE
@given(near_valid_phones())
@example(("+54 9 11 1234 5678", None))
@example(("1 268 464 1234", "CA"))
@example(("0049 30 1234567", "DE"))
@example(("+44 (0)20 7946 0958", "US"))
@example(("8 701 123 4567", "KZ"))
def test_phone_fast_path_agrees_on_near_valid_numbers(case: tuple[str, str | None]) -> None:
    text, region = case
    expected = validation.reference_normalise_phone(text, region)
    fast = fast_phone.to_e164(text, region)
    assert fast is fast_phone.UNSURE or fast == expected
    assert validation.normalise_phone(text, region) == expected
    if expected is not None:  # the remembered E.164 forms must be what the library says
        assert validation.is_e164(expected) == reference_is_e164(expected)


@PROFILE
@given(st.text(alphabet=st.sampled_from("0123456789 +-().#x١０"), max_size=24),
       st.sampled_from([*REGIONS, None]))
def test_phone_fast_path_agrees_on_digit_soup(text: str, region: str | None) -> None:
    assert validation.normalise_phone(text, region) == validation.reference_normalise_phone(text, region)
    assert validation.is_e164(text) == reference_is_e164(text)


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["US", "ES", None]))
def test_phone_fast_path_agrees_on_arbitrary_text(text: str, region: str | None) -> None:
    assert validation.normalise_phone(text, region) == validation.reference_normalise_phone(text, region)


def test_every_example_number_of_every_region_agrees() -> None:
    """Region by region, the compiled validity patterns and prefix handling match the library."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL):
                text = phonenumbers.format_number(number, fmt)
                assert validation.normalise_phone(text, region) == \
                    validation.reference_normalise_phone(text, region), (text, region)
                checked += 1
    assert checked > 1000


def test_remembered_answers_survive_full_memos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded memos, cleared when full, never change an answer; answers they give stay known canonical."""
    monkeypatch.setattr(fast_phone, "_CANONICAL_MAX", 16)
    monkeypatch.setattr(fast_phone, "_MEMO", {})
    monkeypatch.setattr(fast_phone, "_CANONICAL", {})
    rng = random.Random(7)
    switchboards = [f"91{n:07d}" for n in range(5)]
    for _ in range(300):
        digits = rng.choice(switchboards) if rng.random() < 0.5 else "6" + f"{rng.randrange(10**8):08d}"
        text = rng.choice([digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}", f"+34 {digits}", f"0034{digits}"])
        assert validation.normalise_phone(text, "ES") == validation.reference_normalise_phone(text, "ES"), text
        assert len(fast_phone._CANONICAL) <= 16
        for memo in fast_phone._MEMO.values():
            for answer in memo.values():  # what a memo answers, the model's check knows without parsing
                assert answer is None or fast_phone.is_canonical(answer), answer


def test_fast_path_answers_the_common_cases_itself() -> None:
    """Not everything may defer: the point is speed on real exports."""
    for text, region in [("(415) 555-0132", "US"), ("+34 912 345 678", None), ("912345678", "ES"),
                         ("030 1234567", "DE"), ("+44 20 7946 0958", "ES"), ("0034 612 34 56 78", "ES")]:
        assert fast_phone.to_e164(text, region) is not fast_phone.UNSURE, text


# --- email -----------------------------------------------------------------------------------

LOCALS = ["john.doe", "John.Doe", "INFO", "Postmaster", "a", "o'brien", "x+tag", "first_last", "a.b.c", "josé",
          "用户", "a..b", ".a", "a.", '"quoted"', "a b", "x" * 64, "x" * 65, "user%host", "{weird}", "#hash",
          "9", "ana.garcia12", "ＡＢＣ", "a.b.", "..", ".", "a\n", "x²", "a.-b"]
DOMAINS = ["example.com", "Example.COM", "mail.example.co.uk", "münchen.de", "xn--mnchen-3ya.de", "EXAMPLE.ORG",
           "localhost", "example.local", "host.test", "foo.invalid", "x.onion", "1.2.3.4", "[127.0.0.1]",
           "example.123", "ex--ample.com", "-example.com", "example-.com", "a." + "b" * 63 + ".com",
           "a." + "b" * 64 + ".com", "ｅｘａｍｐｌｅ.com", "example.com.", "sub.domain.example.io", "a-b.c-d.net",
           "under_score.com", "x.arpa", "EXAMPLE.tld"]


@st.composite
def near_valid_emails(draw: st.DrawFn) -> str:
    local = draw(st.sampled_from(LOCALS))
    domain = draw(st.sampled_from(DOMAINS))
    text = f"{local}@{domain}"
    mutation = draw(st.integers(0, 9))
    if mutation == 1:
        text = text.upper()
    elif mutation == 2:
        text = draw(st.sampled_from([" ", "<", "Name <", "\t"])) + text + draw(st.sampled_from(["", " ", ">", "."]))
    elif mutation == 3:
        text = text.replace("@", draw(st.sampled_from(["@@", "＠", " @", ""])))
    elif mutation == 4:
        text = text * 2
    elif mutation == 5:
        text = "x" * draw(st.integers(200, 260)) + text
    return text


@PROFILE
@given(near_valid_emails())
@example("INFO@Example.COM")
@example("John.Doe@Example.COM")
@example("user@example.local")
def test_email_fast_path_agrees_on_near_valid_addresses(text: str) -> None:
    expected = validation.reference_normalise_email(text)
    fast = fast_email.normalise(text)
    assert fast is fast_email.UNSURE or fast == expected
    assert validation.normalise_email(text) == expected
    if expected is not None:  # a remembered normal form is its own normal form
        assert validation.normalise_email(expected) == validation.reference_normalise_email(expected)


@settings(derandomize=True, database=None, max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_email_fast_path_agrees_on_arbitrary_ascii(text: str) -> None:
    assert validation.normalise_email(text) == validation.reference_normalise_email(text)


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(st.emails())
def test_email_fast_path_agrees_on_generated_addresses(text: str) -> None:
    assert validation.normalise_email(text) == validation.reference_normalise_email(text)
    assert validation.normalise_email(text.upper()) == validation.reference_normalise_email(text.upper())


@pytest.mark.parametrize("text", ["John.Doe@Example.COM", "a.b+c@sub.example.co.uk", "o'brien@acme.es"])
def test_email_fast_path_answers_the_common_cases_itself(text: str) -> None:
    assert fast_email.normalise(text) is not fast_email.UNSURE
