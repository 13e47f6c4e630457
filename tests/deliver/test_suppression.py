"""Small-cell suppression: primary and secondary (complementary) hiding."""

import pytest

from targetgroup.deliver.suppression import PRIMARY, SECONDARY, suppress


def test_primary_hides_1_to_4_and_keeps_zero_and_five():
    result = suppress({"a": 0, "b": 1, "c": 4, "d": 5})
    assert [result.show(k) for k in "abcd"] == ["0", PRIMARY, PRIMARY, "5"]


def test_total_minus_others_would_reveal_a_small_cell():
    counts = {"total": 30, "x": 3, "y": 12, "z": 15}
    result = suppress(counts, [["total", "x", "y", "z"]])
    assert result.show("x") == PRIMARY
    assert result.show("y") == SECONDARY  # smallest other cell
    assert result.show("z") == "15" and result.show("total") == "30"


def test_no_secondary_when_two_cells_already_hidden():
    result = suppress({"total": 20, "x": 2, "y": 3, "z": 15}, [["total", "x", "y", "z"]])
    assert not result.secondary


def test_kept_cells_are_hidden_last():
    result = suppress({"total": 8, "x": 3, "y": 5}, [["total", "x", "y"]], keep=["total"])
    assert result.show("y") == SECONDARY and result.show("total") == "8"


def test_secondary_spreads_across_linked_relations():
    # dept A = combo AB + combo AC; total = AB + AC + BC
    counts = {"total": 40, "AB": 2, "AC": 20, "BC": 18, "A": 22}
    result = suppress(counts, [["total", "AB", "AC", "BC"], ["A", "AB", "AC"]])
    for relation in (["total", "AB", "AC", "BC"], ["A", "AB", "AC"]):
        assert sum(result.hidden(k) for k in relation) != 1


def test_hidden_total_with_visible_parts_is_protected():
    result = suppress({"total": 3, "x": 0, "y": 3}, [["total", "x", "y"]])
    assert result.hidden("total") and result.hidden("y")


def test_zero_is_hidden_when_it_is_the_only_complement():
    result = suppress({"size_now": 20, "size_before": 21, "new": 0, "ended": 1},
                      [["size_now", "size_before", "new", "ended"]], keep=["size_now", "size_before"])
    assert result.show("new") == SECONDARY
    assert result.value("new") is None and result.value("size_now") == 20


def test_relation_with_unknown_cell_is_a_mistake():
    with pytest.raises(KeyError):
        suppress({"a": 1}, [["a", "b"]])
