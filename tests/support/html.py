"""Reading rendered HTML in tests: parsed, not matched as text.

A raw substring (``'<td class="num">12</td>' in html``) breaks when an attribute moves, a
class is added or a template is re-indented, and passes when the text sits somewhere else
than the test means. These helpers parse the page with Django's own test parser
(``django.test.html``, which ``assertInHTML`` uses): look elements up by tag and attributes,
read their text, and check that an HTMX answer is exactly one fragment.

For "this markup is on the page", use ``assertInHTML`` (re-exported here from pytest-django):
attribute order, class order and whitespace do not matter to it.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.test.html import Element, parse_html
from pytest_django.asserts import assertInHTML

__all__ = ["assertInHTML", "assert_fragment", "attr", "find", "find_all", "has_attr", "parse", "text"]


def parse(html: str) -> Element:
    """The document (or fragment) as a tree of ``django.test.html.Element``."""
    return parse_html(html)


def _walk(node: Element) -> Iterator[Element]:
    for child in node.children:
        if isinstance(child, Element):
            yield child
            yield from _walk(child)


def attr(element: Element, name: str) -> str | None:
    """The value of attribute ``name`` (``None`` when absent or a bare boolean attribute)."""
    return dict(element.attributes).get(name)


def has_attr(element: Element, name: str) -> bool:
    """Whether the element carries attribute ``name`` (``open``, ``checked``, ``selected``…)."""
    return name in dict(element.attributes)


def _matches(element: Element, tag: str | None, attrs: dict[str, str]) -> bool:
    if tag is not None and element.name != tag:
        return False
    present = dict(element.attributes)
    for name, wanted in attrs.items():
        if name == "class_":
            # One class among the element's classes, like a CSS ``.name`` selector.
            if wanted not in (present.get("class") or "").split():
                return False
        elif name.replace("_", "-") not in present or present[name.replace("_", "-")] != wanted:
            return False
    return True


def find_all(node: Element | str, tag: str | None = None, **attrs: str) -> list[Element]:
    """Every element of ``node`` (parsed if a string), itself included, with this tag and these
    attribute values, in document order. ``class_="num"`` matches one class; ``aria_label=``
    names ``aria-label``."""
    root = parse(node) if isinstance(node, str) else node
    return [element for element in (root, *_walk(root)) if _matches(element, tag, attrs)]


def find(node: Element | str, tag: str | None = None, **attrs: str) -> Element:
    """The one element that ``find_all`` finds; fails when there are none or several."""
    found = find_all(node, tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag or '*'} {attrs}> elements, expected one"
    return found[0]


def text(node: Element | str) -> str:
    """The text of ``node`` and its descendants, entities decoded, whitespace collapsed."""
    if isinstance(node, str):
        return " ".join(node.split())
    return " ".join(" ".join(text(child) for child in node.children).split())


def assert_fragment(html: str, tag: str, id: str) -> Element:
    """An HTMX answer is one ``<tag id=id>`` element, no page around it; any element after it
    is swapped out of band (``hx-swap-oob``). Returns that element."""
    root = parse(html)
    if root.name is None:  # several top-level nodes
        assert not [c for c in root.children if isinstance(c, str)], f"text outside <{tag} id={id!r}>"
        top = [c for c in root.children if isinstance(c, Element)]
    else:
        top = [root]
    first, *others = top
    assert first.name == tag and attr(first, "id") == id, f"expected one <{tag} id={id!r}>, got {html[:120]!r}"
    for other in others:
        assert has_attr(other, "hx-swap-oob"), f"<{other.name}> after <{tag} id={id!r}> is not out of band"
    return first
