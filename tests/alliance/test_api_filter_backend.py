"""django-filter's backend builds no filterset for a list asked without any of its filters
(alliance.api.filters.FilterBackend), and filters as before when one is asked."""

from __future__ import annotations

import django_filters
import pytest
from rest_framework.test import APIRequestFactory

from alliance.api.filters import FilterBackend
from demands.api.filters import NeedFilter
from demands.models import Need

from ..demands.factories import NeedFactory

pytestmark = pytest.mark.django_db


class _View:
    filterset_class = NeedFilter


class _RequiredFilter(django_filters.FilterSet):
    status = django_filters.CharFilter(required=True)

    class Meta:
        model = Need
        fields = ["status"]


class _RequiredView:
    filterset_class = _RequiredFilter


def _request(query: str):
    from rest_framework.request import Request

    return Request(APIRequestFactory().get(f"/api/v1/needs/{query}"))


@pytest.fixture
def built(monkeypatch) -> list:
    """Every filterset the backend builds."""
    made: list = []
    original = django_filters.FilterSet.__init__

    def spy(self, *args, **kwargs):
        made.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(django_filters.FilterSet, "__init__", spy)
    return made


def test_a_list_without_filters_is_the_queryset_as_it_is(built):
    queryset = Need.objects.all()
    assert FilterBackend().filter_queryset(_request("?page_size=50&cursor=x"), queryset, _View()) is queryset
    assert built == []


def test_a_filter_asked_builds_the_filterset_and_filters(built):
    NeedFactory(status=Need.Status.SUBMITTED)
    NeedFactory(status=Need.Status.CLOSED)
    filtered = FilterBackend().filter_queryset(_request("?status=closed"), Need.objects.all(), _View())
    assert built == [NeedFilter]
    assert [need.status for need in filtered] == ["closed"]
    # A range's bound is a parameter of its own: `submitted_after` builds it too.
    FilterBackend().filter_queryset(_request("?submitted_after=2026-01-01T00:00:00Z"), Need.objects.all(), _View())
    assert built == [NeedFilter, NeedFilter]


def test_a_filterset_with_a_required_filter_is_always_built(built):
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        FilterBackend().filter_queryset(_request(""), Need.objects.all(), _RequiredView())
    assert built == [_RequiredFilter]
