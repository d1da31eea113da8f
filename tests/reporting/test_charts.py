"""The site's SVG charts: axes with ticks, units, values and legends; every label escaped."""

from __future__ import annotations

import re

from occupipe.reporting.charts import (
    Series,
    hbar_chart,
    heat_map,
    histogram,
    legend_rows,
    line_chart,
    nice_ticks,
    percent,
    vbar_chart,
)
from occupipe.reporting.pages import Page, render_page, table

HOSTILE = "<script>alert(1)</script> \"&'"


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 9) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 0.97) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 2, whole=True) == [0, 1, 2]  # counts: no half records
    assert nice_ticks(5, 5)[-1] >= 6  # a flat series still has a range


def test_stacked_bars_have_ticks_a_titled_axis_totals_and_a_legend() -> None:
    chart = hbar_chart(
        ["Law", "Science"],
        [Series("draft", [3, 1], "#111111"), Series("stable", [2, 4], "#222222")],
        "records (count)",
        "status by category",
    )
    labels = texts(chart)
    assert {"0", "1", "2", "3", "4", "5"} <= set(labels)  # the value axis's ticks
    assert "records (count)" in labels  # its title, with the unit
    assert labels.count("5") >= 2  # each bar's total (and the top tick)
    assert chart.count('class="mark"') == 4 and '<g class="legend">' in chart
    assert "draft" in labels and "stable" in labels
    assert 'viewBox="0 0 ' in chart


def test_a_long_legend_wraps_onto_more_rows() -> None:
    names = [(f"series number {i}", "#000") for i in range(8)]
    assert legend_rows(names, 400) > 1
    chart = hbar_chart(["a"], [Series(n, [1], c) for n, c in names], "count", "many")
    first_row = re.findall(r'<g class="legend">(.*?)</g>', chart)[0]
    assert len(set(re.findall(r'<rect x="[^"]+" y="([^"]+)"', first_row))) > 1


def test_distributions_lines_and_heat_maps_label_their_axes_and_values() -> None:
    bars = vbar_chart(["1", "2"], [4, 7], ("degree (links)", "records (count)"), "degrees")
    assert {"degree (links)", "records (count)", "4", "7"} <= set(texts(bars))
    hist = histogram([1.0, 2.0, 10.0], 3, ("words (words)", "records (count)"), "words", "#000")
    assert hist.count('class="mark"') == 3
    lines = line_chart(
        ["r1", "r2", "r3"],
        [Series("verified", [0.2, 0.25, 0.3], "#123456")],
        ("run", "share of records (%)"),
        "shares",
        percent,
    )
    assert {"20%", "25%", "30%", "share of records (%)", "verified", "r1"} <= set(texts(lines))
    assert lines.count("<circle") == 3 and "<polyline" in lines
    heat = heat_map(["Law"], ["Purpose", "Tools"], {("Law", "Purpose"): 0.5}, "heat")
    assert {"50", "0", "100"} <= set(texts(heat))  # cell values and the colour scale


def test_empty_data_draws_a_sentence_not_a_broken_chart() -> None:
    assert "no data" in hbar_chart([], [], "count", "nothing")
    assert "no data" in line_chart([], [], ("x", "y"), "nothing")
    assert "no data" in histogram([], 5, ("x", "y"), "nothing", "#000")


def test_every_label_title_and_cell_is_escaped() -> None:
    chart = hbar_chart([HOSTILE], [Series(HOSTILE, [1], "#000")], HOSTILE, HOSTILE)
    page = render_page(Page("x.html", HOSTILE, table([HOSTILE], [(HOSTILE,)])), HOSTILE)
    for html in (chart, page, heat_map([HOSTILE], [HOSTILE], {}, HOSTILE)):
        assert "<script>" not in html and "alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#x27;" in html
