"""`train(cfg)`: build a run from its config, then run it. Reads top to bottom: run
directory, seed, data, model, loss, optimizer, schedule, curriculum, loop."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig

from densecli import checkpoint
from densecli.curriculum import Curriculum, CurriculumSampler, SampleCurriculum
from densecli.data import build_datasets
from densecli.data.loaders import build_loader
from densecli.errors import CheckpointError
from densecli.losses import SegmentationLoss
from densecli.models import build_model, check_image_size
from densecli.optim import build_optimizer
from densecli.plan import plan_run
from densecli.runtime import build_runtime, seed_everything
from densecli.tblog import RunLogger
from densecli.trainer import Parts, Trainer
from densecli.validate import validate

log = logging.getLogger(__name__)


def build(cfg: DictConfig, run_dir: Path) -> Parts:
    """Every part of the run `cfg` describes, seeded, on its device."""
    seed_everything(cfg.seed, cfg.trainer.deterministic)
    runtime = build_runtime(cfg.trainer)

    # data, and the clock its size sets
    train_set, val_set = build_datasets(cfg)
    clock, schedule = plan_run(cfg, num_train=len(train_set))
    sample = cfg.curriculum.sample
    pool = SampleCurriculum(sample, train_set.difficulty, clock, cfg.seed) if sample else None
    sampler = CurriculumSampler(len(train_set), cfg.data.batch_size, clock, cfg.seed, pool)
    device_type = runtime.device.type
    train_loader = build_loader(
        train_set, cfg, train=True, sampler=sampler, device_type=device_type
    )
    val_loader = build_loader(val_set, cfg, train=False, device_type=device_type)

    # model: every size it will see is checked against the encoder before step 0
    model = build_model(cfg)
    check_image_size(model, cfg.data.image_size)
    for i, stage in enumerate((cfg.curriculum.resolution or {}).get("stages", [])):
        check_image_size(model, stage.image_size, f"curriculum.resolution.stages.{i}.image_size")
    if cfg.model.init_from:
        checkpoint.load_weights(model, cfg.model.init_from)
        log.info("model weights from %s (the schedule starts at step 0)", cfg.model.init_from)
    memory_format = torch.channels_last if runtime.channels_last else torch.preserve_format
    model = model.to(runtime.device, memory_format=memory_format)

    # loss, optimizer, and the lr schedule per optimizer step
    d = cfg.data
    loss_fn = SegmentationLoss(cfg.loss.weights, d.num_classes, d.ignore_index)
    optimizer = build_optimizer(model, cfg.optimizer)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    log.info(
        "%d training / %d validation samples | %s = %d optimizer steps | effective batch %d "
        "(%d x %d accumulated) | warmup %d steps",
        len(train_set),
        len(val_set),
        clock.describe(),
        clock.total_steps,
        d.batch_size * clock.accumulate_grad_batches,
        d.batch_size,
        clock.accumulate_grad_batches,
        schedule.warmup_steps,
    )
    return Parts(
        cfg,
        run_dir,
        model,
        loss_fn,
        optimizer,
        scheduler,
        runtime,
        clock,
        sampler,
        train_loader,
        val_loader,
        Curriculum(cfg.curriculum, clock, pool),
    )


def train(cfg: DictConfig, run_dir: Path | None = None, resume: bool = False) -> float:
    """Train the run `cfg` describes in `run_dir` (Hydra's output directory by default);
    with `resume`, continue from `run_dir/checkpoints/last.pt`. Returns the best value of
    `trainer.monitor`, for sweepers."""
    cfg = validate(cfg)
    if run_dir is None:
        from hydra.core.hydra_config import HydraConfig

        run_dir = Path(HydraConfig.get().runtime.output_dir)
    last = run_dir / "checkpoints" / "last.pt"
    if last.exists() and not resume:
        raise CheckpointError(
            f"{run_dir} already holds a run ({last}); continue it with `densecli resume "
            f"{run_dir}` or start a new run in a new directory"
        )
    state = checkpoint.load(last) if resume else None

    parts = build(cfg, run_dir)
    logger = RunLogger(run_dir, resume_step=state["step"] if state else None)
    trainer = Trainer(parts, logger)
    if state:
        trainer.load_state_dict(state)
        log.info("resumed %s at epoch %d, step %d", run_dir, trainer.epoch, trainer.step)
    try:
        best = trainer.fit()
        # final scores are the last val/* points; the best one gets a tag of its own
        results = {**trainer.last_scores, f"hparams/best_{cfg.trainer.monitor[4:]}": best}
        logger.hparams(cfg, results, trainer.step)
    finally:
        logger.close()
    log.info("best %s %.4f | run directory %s", cfg.trainer.monitor, best, run_dir)
    return best
