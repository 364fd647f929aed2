from __future__ import annotations

from monitor.text import first_sentences, html_to_text, squash


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = (
        "<p>One &amp; <b>two</b></p><script>alert(1)</script><style>p{}</style><p>Three<br>four</p>"
    )
    assert html_to_text(html) == "One & two\n\nThree\nfour"


def test_plain_text_passes_with_entities_decoded() -> None:
    assert html_to_text("Tom &amp; Jerry &quot;film&quot;") == 'Tom & Jerry "film"'


def test_broken_html_does_not_raise() -> None:
    assert "text" in html_to_text("<p>text <b>unclosed <i>tags")


def test_squash() -> None:
    assert squash("  a \u00a0 b \n\n\n\n c ") == "a b\n\nc"


def test_first_sentences() -> None:
    text = "The agencies met in Baku. They signed a deal! A third sentence. A fourth one.\n\nNext paragraph."
    assert first_sentences(text, 2) == "The agencies met in Baku. They signed a deal!"
    assert first_sentences(
        "Киноагентства подписали соглашение. Фильм снимут в 2027 году. Ещё.", 2
    ) == ("Киноагентства подписали соглашение. Фильм снимут в 2027 году.")
    long = "word " * 200
    assert len(first_sentences(long, max_chars=100)) <= 101
