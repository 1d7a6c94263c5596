import base64

from conformance.redaction import MASK, Redactor


def test_secret_masked_in_text_headers_and_nested_values() -> None:
    r = Redactor(["sk-live-123456", "Bearer tok-abcdef"])
    assert r.text("key=sk-live-123456!") == f"key={MASK}!"
    assert r.headers({"api-key": "sk-live-123456"}) == {"api-key": MASK}
    nested = r.deep({"a": ["echo sk-live-123456"], "tok-abcdef": 1})
    assert "sk-live-123456" not in repr(nested) and "tok-abcdef" not in repr(nested)


def test_encoded_forms_of_a_secret_are_masked() -> None:
    secret = "s3cr3t/with space"
    r = Redactor([secret])
    b64 = base64.b64encode(secret.encode()).decode().rstrip("=")
    assert MASK in r.text(f"x{b64}x")
    assert MASK in r.text("q=s3cr3t%2Fwith%20space")


def test_short_values_are_not_treated_as_secrets() -> None:
    r = Redactor(["1", ""])
    assert not r
    assert r.text("a1b") == "a1b"
