"""`{% alliance_result_list cl %}`: a change list's headers and rows, as unfold's `unfold_result_list`
draws them (the same template, change_list_results.html, overridable per model), computed by
`alliance.admin.base.result_list` with the page's work done once rather than once per row."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.template.base import Parser, Token

register = template.Library()


def result_list(context: dict[str, Any], cl: ChangeList) -> dict[str, Any]:
    # Imported here: Django loads the tag libraries while unfold.admin is still being imported, and
    # alliance.admin builds on unfold.admin.
    from ..admin.base import result_list as build

    return build(context, cl)


@register.tag(name="alliance_result_list")
def result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    return InclusionAdminNode(parser, token, func=result_list, template_name="change_list_results.html")
