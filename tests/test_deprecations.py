"""Deprecated names: each still works, warns where its one home is now, and says when it goes."""

from __future__ import annotations

import pytest

from aiodockerapi import HealthcheckError, models, recipes
from aiodockerapi.resources.containers import Containers
from aiodockerapi.resources.images import Images


@pytest.mark.parametrize(
    ("name", "home", "expected"),
    [
        ("run", "docker.containers.run", Containers.run),
        ("running", "docker.containers.running", Containers.running),
        ("wait_for_log", "docker.containers.wait_for_log", Containers.wait_for_log),
        ("wait_healthy", "docker.containers.wait_healthy", Containers.wait_healthy),
        ("ensure_image", "docker.images.ensure", Images.ensure),
        ("HealthcheckError", "aiodockerapi.errors.HealthcheckError", HealthcheckError),
        ("RunResult", "aiodockerapi.models.RunResult", models.RunResult),
        ("LogPattern", "aiodockerapi.models.LogPattern", models.LogPattern),
    ],
)
def test_recipes_names_warn_and_point_home(name: str, home: str, expected: object) -> None:
    with pytest.warns(DeprecationWarning, match=rf"recipes\.{name} .* 0\.3\.0: use {home}$"):
        value = getattr(recipes, name)
    assert value is expected


def test_an_unknown_recipes_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        recipes.nothing  # noqa: B018
