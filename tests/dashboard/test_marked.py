"""The counterfactual example highlighter of the dashboard: swapped words marked, everything escaped."""
from dashboard.charts import marked_html


def test_marked_html_escapes_and_highlights_spans():
    page = marked_html("a <Muslim> & a Jew", [(3, 9), (15, 18), (2, 50)])
    assert "<mark>Muslim</mark>" in page and "<mark>Jew</mark>" in page
    assert "&lt;" in page and "&amp;" in page and "<Muslim>" not in page
    assert page.count("<mark>") == 2  # an out-of-range span is ignored
