"""Secrets cut in pieces (an excerpt or a message cut to length) are still masked."""

from __future__ import annotations

from conformance.redaction import FRAGMENT_LEN, MASK, Redactor

SECRET = "sk-live-7Q9xZ2mK4pL8vN3bR6tYw1"


def test_a_piece_of_a_secret_left_at_a_cut_is_masked() -> None:
    redactor = Redactor([SECRET])
    for cut in range(FRAGMENT_LEN, len(SECRET)):
        head = redactor.text(f"refused {SECRET[:cut]}… [40 more chars]")
        tail = redactor.text(f"…{SECRET[-cut:]} was refused")
        assert head == f"refused {MASK}… [40 more chars]"
        assert tail == f"…{MASK} was refused"


def test_pieces_shorter_than_a_fragment_and_other_text_are_kept() -> None:
    redactor = Redactor([SECRET, "Bearer tok-9f8e7d6c5b"])
    text = "sk-live is a common prefix; Bearer tokens are fine; 7Q9xZ2m"
    assert redactor.text(text) == text
    assert redactor.text("echo 9f8e7d6c5b") == f"echo {MASK}"
