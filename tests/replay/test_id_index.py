import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mssr.replay.id_index import IdIndex


@given(st.sets(st.integers(-(2**62), 2**62), max_size=300), st.lists(st.integers(-5, 5)))
def test_rows_of_finds_every_id_and_only_those(ids, extra):
    ids = np.array(sorted(ids), dtype=np.int64)
    index = IdIndex(ids)
    np.testing.assert_array_equal(index.rows_of(ids), np.arange(len(ids)))
    queries = np.array([i for i in extra if i not in set(ids.tolist())], dtype=np.int64)
    assert (index.rows_of(queries) == -1).all()


def test_colliding_ids_are_all_found():
    ids = np.arange(0, 2**40, 2**30, dtype=np.int64)  # structured ids, like task * stride
    index = IdIndex(ids)
    np.testing.assert_array_equal(index.rows_of(ids[::-1]), np.arange(len(ids))[::-1])
