"""The synthetic shapes dataset: seeded, varied, honestly scored for difficulty."""

import numpy as np

from densecli.data.images import LUMA
from densecli.data.shapes import KINDS, PREGENERATE_MAX_PIXELS, ShapesSource, class_id


def source(count=24, size=64, seed=0, stream=0, **kwargs) -> ShapesSource:
    return ShapesSource(count, size, seed=seed, stream=stream, **kwargs)


def test_shapes_same_seed_same_samples():
    a, b = source(seed=3), source(seed=3)
    for i in range(len(a)):
        assert np.array_equal(a.load(i)[0], b.load(i)[0])
        assert np.array_equal(a.load(i)[1], b.load(i)[1])
    np.testing.assert_array_equal(a.difficulty, b.difficulty)


def test_shapes_other_seed_or_stream_other_samples():
    base = source(count=4).load(0)[0]
    assert not np.array_equal(base, source(count=4, seed=1).load(0)[0])
    assert not np.array_equal(base, source(count=4, stream=1).load(0)[0])


def test_shapes_lazy_rendering_matches_pregenerated():
    eager, lazy = source(count=6, pregenerate=True), source(count=6, pregenerate=False)
    for i in reversed(range(6)):  # out of order: each sample has its own generator
        assert np.array_equal(eager.load(i)[1], lazy.load(i)[1])
        assert np.array_equal(eager.load(i)[0], lazy.load(i)[0])


def test_shapes_default_size_is_pregenerated():
    # data=shapes defaults: 512 train + 128 val at 96 px, rendered once at build
    assert (512 + 128) * 96 * 96 <= PREGENERATE_MAX_PIXELS


def test_shapes_samples_have_shape_and_dtype():
    image, mask = source(count=2, size=64).load(1)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert mask.shape == (64, 64) and mask.dtype == np.uint8


def test_shapes_binary_mask_is_zero_one_with_foreground():
    data = source()
    for i in range(len(data)):
        mask = data.load(i)[1]
        assert set(np.unique(mask).tolist()) <= {0, 1}
        assert mask.any(), f"sample {i} has no object"


def test_shapes_multiclass_labels_are_kind_ids():
    data = source(count=40, num_classes=5)
    seen = set()
    for i in range(len(data)):
        seen |= set(np.unique(data.load(i)[1]).tolist())
    assert seen <= set(range(5)) and len(seen - {0}) >= 3
    assert [class_id(kind, 5) for kind in KINDS] == [1, 2, 3, 4]
    assert [class_id(kind, 3) for kind in KINDS] == [1, 2, 1, 2]


def test_shapes_one_channel_is_gray():
    image = source(count=1, channels=1).load(0)[0]
    assert image.shape == (64, 64, 1)


def test_shapes_difficulty_spreads_over_unit_range():
    difficulty = source(count=200).difficulty
    assert difficulty.dtype == np.float32 and difficulty.shape == (200,)
    assert 0 <= difficulty.min() < 0.25 and 0.75 < difficulty.max() <= 1
    assert difficulty.std() > 0.15


def test_shapes_difficulty_tracks_contrast_and_size():
    data = source(count=150, size=64)
    contrast, coverage = [], []
    for i in range(len(data)):
        image, mask = data.load(i)
        light = image.astype(np.float32) @ LUMA
        # objects may be lighter or darker than the background: compare magnitudes
        contrast.append(np.abs(light[mask > 0] - np.median(light[mask == 0])).mean())
        coverage.append((mask > 0).mean() / len(data.plans[i].shapes))
    easy = data.difficulty < np.quantile(data.difficulty, 1 / 3)
    hard = data.difficulty > np.quantile(data.difficulty, 2 / 3)
    # hard samples: fainter objects, each covering less of the image
    assert np.mean(np.array(contrast)[hard]) < 0.8 * np.mean(np.array(contrast)[easy])
    assert np.mean(np.array(coverage)[hard]) < 0.6 * np.mean(np.array(coverage)[easy])


def test_shapes_faintest_object_beats_the_noise():
    data = source(count=200)
    for plan in data.plans:
        for shape in plan.shapes:
            assert abs(shape.contrast) > 2.5 * plan.noise
