import math

import pytest
from omegaconf import OmegaConf

from densecli.clock import Clock
from densecli.errors import ConfigError
from densecli.schedules import (
    LRSchedule,
    SchedulePoint,
    build_lr_schedule,
    constant,
    cosine_annealing,
    one_cycle,
    polynomial,
    step_decay,
    warmup_linear,
)


def lrs(points):
    assert all(isinstance(p, SchedulePoint) for p in points)
    assert [p.step for p in points] == list(range(len(points)))
    return [p.lr for p in points]


def test_step_decay_course_example():
    assert lrs(step_decay(1e-3, 0.1, 20, 5)) == pytest.approx([1e-3] * 5)


def test_step_decay_drops_every_step_size():
    assert lrs(step_decay(1.0, 0.5, 2, 6)) == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_cosine_annealing_course_example():
    expected = [0.001, 0.0008536998372026805, 0.0005005, 0.00014730016279731955, 1e-06]
    assert lrs(cosine_annealing(1e-3, 1e-6, 5)) == pytest.approx(expected, rel=1e-12)


def test_one_cycle_course_example():
    expected = [1e-05, 0.001, 0.00067, 0.00034, 1e-05]
    assert lrs(one_cycle(1e-3, 1e-5, 5)) == pytest.approx(expected, rel=1e-9)


def test_warmup_linear_course_example():
    expected = [1e-3 / 3, 2e-3 / 3, 1e-3, 1e-3, 1e-3]
    assert lrs(warmup_linear(1e-3, 3, 5)) == pytest.approx(expected)


def test_constant_is_flat():
    assert lrs(constant(0.1, 4)) == [0.1] * 4


def test_polynomial_closed_form():
    got = lrs(polynomial(1.0, 5, power=2.0, min_lr=0.1))
    expected = [0.1 + 0.9 * (1 - t / 4) ** 2 for t in range(5)]
    assert got == pytest.approx(expected)
    assert got[-1] == pytest.approx(0.1)


def test_lrschedule_warmup_then_cosine():
    schedule = LRSchedule("cosine", total_steps=14, warmup_steps=4, min_lr_ratio=0.0)
    assert [schedule(t) for t in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # the cosine runs over the 10 steps left, from the peak to the floor
    assert schedule(4) == pytest.approx(1.0)
    assert schedule(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 9)))
    assert schedule(13) == pytest.approx(0.0)


def test_lrschedule_matches_course_generator():
    schedule = LRSchedule("one_cycle", total_steps=5, min_lr_ratio=0.01, pct_start=0.3)
    assert [p.lr for p in schedule.points(1e-3)] == pytest.approx(lrs(one_cycle(1e-3, 1e-5, 5)))


def test_lrschedule_state_is_plain_and_restorable():
    torch = pytest.importorskip("torch")
    schedule = LRSchedule("cosine", total_steps=10, warmup_steps=2)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    fresh_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    fresh = torch.optim.lr_scheduler.LambdaLR(fresh_opt, LRSchedule("constant", total_steps=10))
    fresh.load_state_dict(state)
    fresh_opt.step()
    fresh.step()
    assert fresh_opt.param_groups[0]["lr"] == pytest.approx(0.1 * schedule(4))


CLOCK = Clock(batches_per_epoch=10, accumulate_grad_batches=3, max_epochs=5)  # 4 steps/epoch


def test_build_converts_epochs_and_fractions_once():
    sched = OmegaConf.create(
        {"name": "cosine", "warmup_fraction": 0.1, "warmup_epochs": None, "min_lr_ratio": 0.0}
    )
    assert build_lr_schedule(sched, CLOCK).warmup_steps == 2
    sched.warmup_epochs = 1.5
    assert build_lr_schedule(sched, CLOCK).warmup_steps == 6


def test_build_step_schedule_uses_step_epochs():
    sched = OmegaConf.create(
        {
            "name": "step",
            "warmup_fraction": 0.0,
            "warmup_epochs": None,
            "step_fraction": 0.4,
            "step_epochs": 2,
            "gamma": 0.5,
        }
    )
    schedule = build_lr_schedule(sched, CLOCK)
    assert schedule.step_size == 8
    assert [schedule(t) for t in (0, 7, 8, 16)] == [1.0, 1.0, 0.5, 0.25]


def test_build_refuses_warmup_longer_than_training():
    sched = OmegaConf.create({"name": "constant", "warmup_fraction": 0.0, "warmup_epochs": 5})
    with pytest.raises(ConfigError, match=r"scheduler.warmup_epochs: got 5.*shorter than"):
        build_lr_schedule(sched, CLOCK)


def test_clock_counts_the_last_partial_group():
    assert CLOCK.steps_per_epoch == 4
    assert CLOCK.total_steps == 20
