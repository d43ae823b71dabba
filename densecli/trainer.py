"""The training loop: forward under autocast, accumulate, clip, step, schedule, log,
validate, checkpoint. Every schedule reads the one clock, `self.step` (optimizer steps)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from tqdm import tqdm

from densecli import checkpoint
from densecli.clock import Clock
from densecli.curriculum import Curriculum, CurriculumSampler
from densecli.errors import DensecliError
from densecli.losses import SegmentationLoss
from densecli.metrics import SegmentationMetrics
from densecli.runtime import Runtime, rng_state, set_rng_state
from densecli.tblog import RunLogger
from densecli.visual import overlay_row

log = logging.getLogger(__name__)


class TrainingError(DensecliError):
    """Training cannot go on (for example, the loss keeps coming out non-finite)."""


@dataclass
class Parts:
    """What the trainer is built from; `densecli.train.build` makes one from a config."""

    cfg: DictConfig
    run_dir: Path
    model: torch.nn.Module
    loss_fn: SegmentationLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    runtime: Runtime
    clock: Clock
    sampler: CurriculumSampler
    train_loader: torch.utils.data.DataLoader
    val_loader: torch.utils.data.DataLoader
    curriculum: Curriculum


class Trainer:
    def __init__(self, parts: Parts, logger: RunLogger) -> None:
        self.p, self.logger, self.cfg = parts, logger, parts.cfg
        self.tr = parts.cfg.trainer
        self.forward = torch.compile(parts.model) if self.tr.compile else parts.model
        self.scaler = torch.amp.GradScaler(
            parts.runtime.device.type, enabled=parts.runtime.use_scaler
        )
        self.step, self.epoch, self.best = 0, 0, -math.inf
        self.nonfinite_in_row, self.nonfinite_total = 0, 0
        self.wall_offset, self.started = 0.0, time.perf_counter()
        self.last_scores: dict[str, float] = {}
        self._tick = (time.perf_counter(), 0)  # (time, step) of the last speed reading

    # state: everything needed to continue exactly where a checkpoint was taken
    def state_dict(self) -> dict:
        return {
            "model": self.p.model.state_dict(),
            "optimizer": self.p.optimizer.state_dict(),
            "scheduler": self.p.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "best": self.best,
            "nonfinite_total": self.nonfinite_total,
            "wall_time": self.wall_time(),
            "sampler": {"seed": self.p.sampler.seed, "epoch": self.epoch},
            "rng": rng_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.p.model.load_state_dict(state["model"])
        self.p.optimizer.load_state_dict(state["optimizer"])
        self.p.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch, self.best = state["step"], state["epoch"], state["best"]
        self.nonfinite_total, self.wall_offset = state["nonfinite_total"], state["wall_time"]
        set_rng_state(state["rng"])

    def wall_time(self) -> float:
        return self.wall_offset + time.perf_counter() - self.started

    def fit(self) -> float:
        """Train to `trainer.max_epochs`; return the best value of `trainer.monitor`."""
        bar = tqdm(
            total=self.p.clock.total_steps,
            initial=self.step,
            unit="step",
            disable=None if self.tr.progress_bar else True,
            dynamic_ncols=True,
        )
        self._tick = (time.perf_counter(), self.step)
        while self.epoch < self.tr.max_epochs:
            train_loss = self._train_epoch(bar)
            self.epoch += 1
            last = self.epoch == self.tr.max_epochs
            if last or self.epoch % self.tr.val_every_n_epochs == 0:
                self._validate_and_save(train_loss)
        bar.close()
        return self.best

    def _train_epoch(self, bar: tqdm) -> float:
        self.p.model.train()
        self.p.sampler.set_epoch(self.epoch)
        batches, k = self.p.clock.batches_per_epoch, self.p.clock.accumulate_grad_batches
        group_loss, group_terms, epoch_loss = 0.0, {}, 0.0
        for i, (images, masks) in enumerate(self.p.train_loader):
            # the last group of an epoch may hold fewer than k micro-batches
            group_size = min(k, batches - i // k * k)
            images, masks = self._to_device(images, masks, train=True)
            with self.p.runtime.autocast():
                logits = self.forward(images)  # (B, K, H, W)
            loss, terms = self.p.loss_fn(logits, masks, self.p.curriculum.dice_scale(self.step))
            self.scaler.scale(loss / group_size).backward()
            group_loss = group_loss + loss.detach() / group_size
            for name, value in terms.items():
                group_terms[name] = group_terms.get(name, 0.0) + value.detach() / group_size

            if (i + 1) % k == 0 or i + 1 == batches:
                epoch_loss += self._optimizer_step(group_loss, group_terms, bar)
                group_loss, group_terms = 0.0, {}
        return epoch_loss / self.p.clock.steps_per_epoch

    def _to_device(self, images, masks, train: bool):
        rt = self.p.runtime
        images = images.to(rt.device, non_blocking=True)
        masks = masks.to(rt.device, non_blocking=True)
        size = self.p.curriculum.image_size(self.step, images.shape[-1]) if train else None
        if size is not None and size != images.shape[-1]:
            # resolution curriculum: images bilinear, masks nearest (no new label values)
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True)
            masks = F.interpolate(masks[:, None].float(), size=(size, size), mode="nearest")
            masks = masks[:, 0].long()  # (B, H, W)
        if rt.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, masks

    def _optimizer_step(self, loss: torch.Tensor, terms: dict, bar: tqdm) -> float:
        opt, lr = self.p.optimizer, self.p.optimizer.param_groups[0]["lr"]
        self.scaler.unscale_(opt)
        clip = self.tr.gradient_clip_val or math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.p.model.parameters(), clip)
        # the one host sync per optimizer step: is this update safe to apply?
        loss_value, norm_value = torch.stack([loss.float(), grad_norm.float()]).tolist()
        if math.isfinite(loss_value) and (math.isfinite(norm_value) or self.scaler.is_enabled()):
            self.scaler.step(opt)
            self.nonfinite_in_row = 0
        else:
            self._skip_nonfinite(loss_value, lr)
        self.scaler.update()
        opt.zero_grad(set_to_none=True)
        self.p.scheduler.step()

        if self.step % self.tr.log_every_n_steps == 0:
            self._log_train(loss_value, terms, lr, norm_value, bar)
        self.step += 1
        bar.update(1)
        return loss_value if math.isfinite(loss_value) else 0.0

    def _skip_nonfinite(self, loss_value: float, lr: float) -> None:
        self.nonfinite_in_row += 1
        self.nonfinite_total += 1
        log.warning(
            "step %d: non-finite loss or gradient (loss %s); update skipped", self.step, loss_value
        )
        if self.nonfinite_in_row >= self.tr.max_nonfinite_steps:
            raise TrainingError(
                f"training stopped at step {self.step}: {self.nonfinite_in_row} optimizer steps "
                f"in a row had a non-finite loss or gradient (lr {lr:.3g}); lower optimizer.lr, "
                "add warmup (scheduler=cosine_warmup) or set trainer.amp=off"
            )

    def _log_train(self, loss: float, terms: dict, lr: float, grad_norm: float, bar: tqdm) -> None:
        now = time.perf_counter()
        then, then_step = self._tick
        speed = (self.step + 1 - then_step) / max(now - then, 1e-9)
        self._tick = (now, self.step + 1)
        scalars = {
            "train/loss": loss,
            "train/lr": lr,
            "train/grad_norm": grad_norm,
            "perf/steps_per_sec": speed,
            "train/nonfinite_steps": self.nonfinite_total,
        }
        scalars.update({f"train/loss_{n}": float(v) for n, v in terms.items()})
        scalars.update(
            {f"curriculum/{n}": v for n, v in self.p.curriculum.state(self.step).items()}
        )
        self.logger.scalars(scalars, self.step)
        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", steps_s=f"{speed:.2f}", refresh=False)

    @torch.no_grad()
    def validate(self, log_step: int) -> dict[str, float]:
        """Loss (the configured weights, no curriculum), Dice and IoU over the validation set."""
        self.p.model.eval()
        metrics = SegmentationMetrics(self.cfg.data.num_classes, self.cfg.data.ignore_index)
        total, count, shown = 0.0, 0, []
        for images, masks in self.p.val_loader:
            images, masks = self._to_device(images, masks, train=False)
            with self.p.runtime.autocast():
                logits = self.forward(images)
            loss, _ = self.p.loss_fn(logits, masks)
            total += loss.item() * len(images)
            count += len(images)
            metrics.update(logits.float(), masks)
            for j in range(min(len(images), self.tr.num_val_images - len(shown))):
                shown.append(overlay_row(images[j], masks[j], logits[j], self.cfg.data))
        scores = {f"val/{name}": value for name, value in metrics.compute().items()}
        scores["val/loss"] = total / max(count, 1)
        for j, row in enumerate(shown):
            self.logger.image(f"val/sample_{j}", row, log_step)
        return scores

    def _validate_and_save(self, train_loss: float) -> None:
        # logged at the index of the last update, so everything at or past the checkpoint's
        # step count was logged after it (what a resume purges)
        at = self.step - 1
        scores = self.validate(at)
        lr = self.p.optimizer.param_groups[0]["lr"]
        self.logger.scalars(scores, at)
        self.logger.csv_row(
            {
                "epoch": self.epoch,
                "step": at,
                "train/loss": train_loss,
                "lr": lr,
                "wall_time": round(self.wall_time(), 2),
                **scores,
            }
        )
        self.last_scores = scores
        value = scores[self.tr.monitor]
        weights_ok = all(torch.isfinite(p).all() for p in self.p.model.parameters())
        improved = weights_ok and math.isfinite(value) and value > self.best
        if improved:
            self.best = value
        ckpt_dir = self.p.run_dir / "checkpoints"
        state = self.state_dict()
        checkpoint.save_atomic(state, ckpt_dir / "last.pt")
        if improved:
            checkpoint.promote(ckpt_dir / "last.pt", ckpt_dir / "best.pt")
        log.info(
            "epoch %d/%d step %d/%d | train/loss %.4f | val/loss %.4f val/dice %.4f "
            "val/iou %.4f%s | lr %.2e | %.0fs",
            self.epoch,
            self.tr.max_epochs,
            self.step,
            self.p.clock.total_steps,
            train_loss,
            scores["val/loss"],
            scores["val/dice"],
            scores["val/iou"],
            " (best)" if improved else "",
            lr,
            self.wall_time(),
        )
