"""Everything a run writes to judge it: TensorBoard scalars, images and hparams in the run
directory (one TensorBoard run per job), and `metrics.csv` beside them."""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

CSV_FIELDS = ("epoch", "step", "train/loss", "val/loss", "val/dice", "val/iou", "lr", "wall_time")


class RunLogger:
    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        self.run_dir = run_dir
        # purge_step makes TensorBoard drop what a killed run logged after its checkpoint
        self.writer = SummaryWriter(str(run_dir), purge_step=resume_step)
        self.csv_path = run_dir / "metrics.csv"
        if resume_step is not None:
            self._truncate_csv(resume_step)

    def scalars(self, values: dict[str, float], step: int) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def image(self, tag: str, image: torch.Tensor, step: int) -> None:
        self.writer.add_image(tag, image, step)  # (3, H, W) uint8

    def csv_row(self, row: dict[str, float]) -> None:
        new = not self.csv_path.exists()
        with self.csv_path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def _truncate_csv(self, step: int) -> None:
        # rows a killed run wrote after its last checkpoint (at `step` updates) come again
        if not self.csv_path.exists():
            return
        with self.csv_path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) < step]
        with self.csv_path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(rows)

    def hparams(self, cfg: DictConfig, results: dict[str, float], step: int) -> None:
        """The flattened config and final/best results, in this run's own directory, so
        TensorBoard's HParams tab compares the jobs of a sweep. Metric values are read by
        TensorBoard from the scalars of the same tags; `hparams/*` ones are written here."""
        params = flatten(OmegaConf.to_container(cfg, resolve=True))
        for summary in hparams(params, results):
            self.writer.file_writer.add_summary(summary)
        self.scalars({k: v for k, v in results.items() if k.startswith("hparams/")}, step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def flatten(node: object, prefix: str = "") -> dict[str, object]:
    """`{"optimizer.lr": 3e-4, ...}` with values TensorBoard's hparams accept."""
    if isinstance(node, dict):
        out: dict[str, object] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    key = prefix.rstrip(".")
    if isinstance(node, (bool, int, float, str)):
        return {key: node}
    return {key: "null" if node is None else str(node)}
