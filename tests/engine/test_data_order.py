import numpy as np

from mssr.replay.driver import stream_indices


def test_each_epoch_is_a_permutation():
    stream = stream_indices(seed=3, task_index=1, num_examples=10, start=0, count=30)
    for epoch in range(3):
        assert sorted(stream[epoch * 10:(epoch + 1) * 10]) == list(range(10))
    assert not np.array_equal(stream[:10], stream[10:20])


def test_any_window_equals_the_same_slice_of_the_stream():
    whole = stream_indices(seed=0, task_index=2, num_examples=7, start=0, count=40)
    np.testing.assert_array_equal(stream_indices(0, 2, 7, 13, 11), whole[13:24])


def test_seed_and_task_change_the_order():
    base = stream_indices(0, 0, 50, 0, 50)
    assert not np.array_equal(base, stream_indices(1, 0, 50, 0, 50))
    assert not np.array_equal(base, stream_indices(0, 1, 50, 0, 50))
