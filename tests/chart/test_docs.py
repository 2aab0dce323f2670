"""Every value is documented in values.yaml, and chart/README.md shows the current table."""

import pytest

from infra.chart_readme import (
    README_FILE,
    VALUES_FILE,
    undocumented,
    updated_readme,
    value_keys,
)

pytestmark = pytest.mark.chart


def test_every_value_has_a_doc_comment() -> None:
    assert undocumented(value_keys(VALUES_FILE.read_text())) == []


def test_undocumented_value_is_reported() -> None:
    text = "# -- Documented.\nreplicaCount: 3\nimage:\n  # -- Documented.\n  tag: ''\n  digest: 1\n"
    assert undocumented(value_keys(text)) == ["image.digest"]


def test_description_continues_on_the_next_comment_lines() -> None:
    text = "# -- Service type: ClusterIP or\n# NodePort.\ntype: ClusterIP\n"
    assert [key.description for key in value_keys(text)] == ["Service type: ClusterIP or NodePort."]


def test_readme_values_table_is_current() -> None:
    readme = README_FILE.read_text()
    assert readme == updated_readme(readme, VALUES_FILE.read_text()), (
        "chart/README.md is stale: run `python -m infra.chart_readme`"
    )
