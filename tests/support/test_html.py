"""The HTML helpers find what a page shows, whatever the attribute order or indentation, and
fail where a substring test would have passed."""

from __future__ import annotations

import pytest

from tests.support.html import assert_fragment, attr, find, find_all, text

PAGE = """<!DOCTYPE html><html><body>
  <table id="t"><tbody>
    <tr><th scope="row">Zo&euml; &quot;Z&quot;</th><td class="num wide">12</td></tr>
    <tr><th scope="row">Bob</th><td class="num">3</td></tr>
  </tbody></table>
  <p>12</p>
</body></html>"""


def test_elements_are_found_by_tag_attribute_and_one_class_and_read_as_text():
    table = find(PAGE, "table", id="t")
    assert [text(th) for th in find_all(table, "th", scope="row")] == ['Zoë "Z"', "Bob"]
    assert [text(td) for td in find_all(table, "td", class_="num")] == ["12", "3"]
    assert [text(td) for td in find_all(table, "td", class_="wide")] == ["12"]
    assert attr(find(table, "td", class_="wide"), "class") == "num wide"


def test_find_fails_on_none_or_several():
    with pytest.raises(AssertionError, match="0 <td"):
        find(PAGE, "td", class_="missing")
    with pytest.raises(AssertionError, match="2 <td"):
        find(PAGE, "td", class_="num")


def test_a_fragment_is_one_element_plus_out_of_band_swaps_only():
    assert attr(assert_fragment('<div id="a"><p>x</p></div>', "div", "a"), "id") == "a"
    assert_fragment('<div id="a"></div>\n<p id="stamp" hx-swap-oob="true">x</p>', "div", "a")
    with pytest.raises(AssertionError):
        assert_fragment(PAGE, "div", "a")
    with pytest.raises(AssertionError, match="not out of band"):
        assert_fragment('<div id="a"></div><p>more</p>', "div", "a")
    with pytest.raises(AssertionError, match="text outside"):
        assert_fragment('<div id="a"></div> trailing words', "div", "a")
