"""`{% alliance_result_list cl %}`: a change list's headers and rows, as unfold's `unfold_result_list`
draws them (the same template, change_list_results.html, overridable per model), computed by
`alliance.admin.base.result_list` with the page's work done once rather than once per row."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.template.base import Parser, Token
from django.utils.safestring import mark_safe

register = template.Library()


def result_list(context: dict[str, Any], cl: ChangeList) -> dict[str, Any]:
    # Imported here: Django loads the tag libraries while unfold.admin is still being imported, and
    # alliance.admin builds on unfold.admin.
    from ..admin.base import result_list as build

    return build(context, cl)


@register.tag(name="alliance_result_list")
def result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    return InclusionAdminNode(parser, token, func=result_list, template_name="change_list_results.html")


class FragmentNode(template.Node):
    def __init__(self, name: str, nodelist: template.NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        from ..admin.frame import FRAGMENTS

        return mark_safe(FRAGMENTS[self.name].render(context, lambda: self.nodelist.render(context)))


@register.tag(name="alliance_fragment")
def fragment_tag(parser: Parser, token: Token) -> FragmentNode:
    """`{% alliance_fragment "sidebar" %}…{% endalliance_fragment %}`: the enclosed piece of the frame
    rendered once per process for each key of `alliance.admin.frame.FRAGMENTS[name]`."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'":
        raise template.TemplateSyntaxError("alliance_fragment takes one quoted fragment name")
    nodelist = parser.parse(("endalliance_fragment",))
    parser.delete_first_token()
    return FragmentNode(bits[1][1:-1], nodelist)
