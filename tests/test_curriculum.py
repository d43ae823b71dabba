import numpy as np
import pytest
from omegaconf import OmegaConf

from densecli.clock import Clock
from densecli.curriculum import (
    Curriculum,
    CurriculumSampler,
    SampleCurriculum,
    dice_scale_at,
    pace,
    resolution_at,
)

CLOCK = Clock(batches_per_epoch=10, accumulate_grad_batches=2, max_epochs=4)  # 20 steps


def sample_cfg(order="easy_first", start=0.25, full_at=0.5, pacing="linear"):
    return OmegaConf.create(
        {"order": order, "start_fraction": start, "full_at_fraction": full_at, "pacing": pacing}
    )


@pytest.mark.parametrize(
    ("pacing", "expected"),
    [
        ("linear", [0.0, 0.25, 0.5, 1.0, 1.0]),
        ("root", [0.0, 0.5, 0.5**0.5, 1.0, 1.0]),
        ("step", [0.0, 0.25, 0.5, 1.0, 1.0]),
    ],
)
def test_pace_closed_forms(pacing, expected):
    got = [pace(x, pacing) for x in (0.0, 0.25, 0.5, 1.0, 1.5)]
    assert got == pytest.approx(expected)


def test_pace_step_holds_between_jumps():
    assert pace(0.2, "step") == 0.0 and pace(0.3, "step") == 0.25 and pace(0.99, "step") == 0.75


def test_sample_pool_grows_from_start_to_all():
    difficulty = np.linspace(0, 1, 40)
    pool = SampleCurriculum(sample_cfg(), difficulty, CLOCK, seed=0)
    assert pool.full_at_step == 10
    assert pool.pool_size(0) == 10  # a quarter of 40
    assert pool.pool_size(5) == 25  # halfway up the ramp: 0.25 + 0.75 * 0.5
    assert pool.pool_size(10) == 40 and pool.pool_size(19) == 40


@pytest.mark.parametrize("order", ["easy_first", "hard_first", "random"])
def test_sample_pool_order(order):
    rng = np.random.default_rng(3)
    difficulty = rng.random(50)
    pool = SampleCurriculum(sample_cfg(order=order), difficulty, CLOCK, seed=0)
    ranked = difficulty[pool.ranking]
    if order == "easy_first":
        assert np.all(np.diff(ranked) >= 0)
    elif order == "hard_first":
        assert np.all(np.diff(ranked) <= 0)
    else:
        assert sorted(pool.ranking) == list(range(50))
        again = SampleCurriculum(sample_cfg(order=order), difficulty, CLOCK, seed=0)
        assert np.array_equal(pool.ranking, again.ranking), "seeded"
        assert not np.array_equal(pool.ranking, np.argsort(difficulty))


def test_sampler_without_curriculum_is_a_permutation_per_epoch():
    sampler = CurriculumSampler(40, 4, CLOCK, seed=1)
    epochs = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        epochs.append([index for index, _ in sampler])
    assert all(sorted(e) == list(range(40)) for e in epochs)
    assert epochs[0] != epochs[1]
    assert len(sampler) == 40


def test_sampler_is_a_function_of_seed_and_epoch():
    a, b = CurriculumSampler(40, 4, CLOCK, seed=5), CurriculumSampler(40, 4, CLOCK, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b)
    seeds = [seed for _, seed in a]
    assert len(set(seeds)) > 35, "each draw carries its own augmentation seed"


def test_sampler_draws_only_from_the_current_pool():
    difficulty = np.arange(40) / 40  # index i has difficulty i / 40
    pool = SampleCurriculum(sample_cfg(), difficulty, CLOCK, seed=0)
    sampler = CurriculumSampler(40, 4, CLOCK, seed=0, curriculum=pool)
    sampler.set_epoch(0)
    drawn = [index for index, _ in sampler]
    assert len(drawn) == 40, "an epoch keeps its number of samples"
    for batch in range(10):
        step = batch // 2
        allowed = pool.pool_size(step)
        assert max(drawn[batch * 4 : batch * 4 + 4]) < allowed, batch
    # the first batches come from the easiest quarter only
    assert max(drawn[:8]) < 10 + 1


def test_sampler_anti_curriculum_draws_hardest_first():
    difficulty = np.arange(40) / 40
    pool = SampleCurriculum(sample_cfg(order="hard_first"), difficulty, CLOCK, seed=0)
    sampler = CurriculumSampler(40, 4, CLOCK, seed=0, curriculum=pool)
    first = [index for index, _ in sampler][:4]
    assert min(first) >= 30


def test_resolution_stage_switching():
    stages = OmegaConf.create(
        [{"start_fraction": 0.0, "image_size": 64}, {"start_fraction": 0.5, "image_size": 128}]
    )
    assert [resolution_at(stages, s, CLOCK) for s in (0, 9, 10, 19)] == [64, 64, 128, 128]


def test_dice_weight_ramps_between_two_points():
    cfg = OmegaConf.create({"dice_start_fraction": 0.25, "dice_full_fraction": 0.75})
    got = [dice_scale_at(cfg, s, CLOCK) for s in (0, 4, 5, 10, 15, 19)]
    assert got == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0, 1.0])


def test_curriculum_state_logs_every_active_part():
    cfg = OmegaConf.create(
        {
            "sample": None,
            "resolution": {
                "stages": [
                    {"start_fraction": 0.0, "image_size": 32},
                    {"start_fraction": 0.5, "image_size": 64},
                ]
            },
            "loss": {"dice_start_fraction": 0.0, "dice_full_fraction": 0.5},
        }
    )
    curriculum = Curriculum(cfg, CLOCK, sample=None)
    assert curriculum.state(5) == {"image_size": 32, "dice_weight_scale": 0.5}
    assert curriculum.image_size(12, default_size=64) == 64
    assert (
        Curriculum(
            OmegaConf.create({"sample": None, "resolution": None, "loss": None}), CLOCK, None
        ).state(3)
        == {}
    )


def test_sampler_cycles_a_small_set_to_fill_the_epoch():
    clock = Clock(batches_per_epoch=8, accumulate_grad_batches=1, max_epochs=1)
    drawn = [index for index, _ in CurriculumSampler(10, 8, clock, seed=0)]
    assert len(drawn) == 64
    counts = np.bincount(drawn, minlength=10)
    assert counts.min() >= 6 and counts.max() <= 7, "each pass of the deck holds every sample"
