"""Text for features: HTML to plain text, and Loughran-McDonald sentiment."""

import pytest

from cbi_platform.lib.text import html_to_text, lm_sentiment


def test_html_to_text_drops_code_and_decodes_entities():
    markup = ('<div><p>Soy&shy;bean oil&#8217;s &ldquo;rally&rdquo;&nbsp;&amp; more</p><script type="text/javascript">'
              'var x = "<p>hidden</p>";</script><style>p { color: red }</style><noscript>Enable JS</noscript>'
              '<iframe src="https://example.com"></iframe><ul><li>one</li><li>two</li></ul>end<br>line</div>')
    assert html_to_text(markup) == "Soy\u00adbean oil\u2019s \u201crally\u201d & more one two end line"
    assert html_to_text("  plain   text\n") == "plain text"
    assert html_to_text("") == ""


def test_loughran_mcdonald_sentiment_sign_and_counts():
    positive = lm_sentiment("Profits improved and the outlook is strong: a successful quarter with record gains.")
    negative = lm_sentiment("Losses widened amid weak demand, cancellations and a disappointing decline.")
    assert positive[0] > 0 and positive[1] >= 2 and positive[2] == 0
    assert negative[0] < 0 and negative[2] >= 4 and negative[1] == 0
    assert lm_sentiment("") == (0.0, 0, 0) and lm_sentiment("   ") == (0.0, 0, 0)
    assert lm_sentiment("1234 5678") == (0.0, 0, 0)
    polarity, pos, neg = lm_sentiment("improved improved declined")
    assert (pos, neg) == (2, 1) and polarity == pytest.approx(1 / 3)
