import os

import pytest

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# a run small enough for a test: 32 px, a few batches, two epochs
TINY_RUN = [
    "data.num_train=16",
    "data.num_val=4",
    "data.image_size=32",
    "data.batch_size=4",
    "model.decoder_channels=[16,16,8,8,8]",
    "trainer.max_epochs=2",
    "trainer.progress_bar=false",
    "trainer.num_val_images=2",
]


@pytest.fixture
def tiny_run() -> list[str]:
    return list(TINY_RUN)
