"""The training recipe beyond the original: splits by whole work recorded in the run and the card,
the learning-rate schedule, and a learned prior trained jointly."""

import json

import pytest
import torch

from core.model import checkpoints
from core.model.batching import PairSet
from core.model.network import MahlerNet, NetworkConfig
from core.preprocess.splits import WorkSplit
from core.training.trainer import Trainer, TrainingConfig, learning_rate_at, make_optimizer, train_step
from tests.core.synthetic import random_pieces

TINY = NetworkConfig(encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=24, z_dim=8, prior="learned", prior_size=16)
BY_WORK = TrainingConfig(epochs=2, batch_size=8, split="works", validation_ratio=0.2, test_ratio=0.2, patience=0, checkpoint_minutes=0)


def test_a_run_split_by_work_trains_on_training_works_only_and_records_the_split(tmp_path):
    pairs = PairSet(random_pieces(10, bars=4, seed=1))
    trainer = Trainer.start(tmp_path / "run", pairs, TINY, BY_WORK)
    split = WorkSplit.from_dict(json.loads((tmp_path / "run" / "run.json").read_text())["split"])
    assert split.test and split.validation
    for ids, name in ((trainer.train_ids, "train"), (trainer.val_ids, "validation")):
        assert {split.split_of(pairs.sources[pairs.piece_of[i]]) for i in ids} == {name}
    trainer.fit()
    _, card = checkpoints.load_model(tmp_path / "run" / "best.safetensors")
    assert WorkSplit.from_dict(card["split"]) == split
    resumed = Trainer.resume(tmp_path / "run", pairs)
    assert list(resumed.val_ids) == list(trainer.val_ids)


def test_the_learned_prior_gets_trained():
    pairs = PairSet(random_pieces(4, bars=4, seed=2))
    trainer_config = TrainingConfig(epochs=1, batch_size=16, validation_ratio=0, checkpoint_minutes=0, learning_rate=1e-2)
    torch.manual_seed(0)
    model = MahlerNet(TINY)
    before = model.prior_network[2].weight.detach().clone()
    optimizer = make_optimizer(model, trainer_config)
    train_step(model, optimizer, pairs.collate(pairs.pairs[:16]), trainer_config, beta=1.0, probability=0.0)
    assert not torch.equal(before, model.prior_network[2].weight)


@pytest.mark.parametrize("warmup", [0, 10])
def test_the_cosine_schedule_warms_up_then_decays_to_its_floor(warmup):
    config = TrainingConfig(epochs=4, learning_rate=1e-3, lr_schedule="cosine", warmup_steps=warmup, min_lr_ratio=0.1)
    rates = [learning_rate_at(step, 25, config) for step in range(100)]
    if warmup:
        assert rates[0] == pytest.approx(1e-4) and rates[warmup - 1] == pytest.approx(1e-3)
        assert rates[:warmup] == sorted(rates[:warmup])
    assert rates[warmup:] == sorted(rates[warmup:], reverse=True)
    assert rates[warmup] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-4, rel=0.01)
    assert learning_rate_at(57, 25, TrainingConfig(learning_rate=2e-3)) == 2e-3  # constant


def test_the_wsd_schedule_holds_the_rate_then_decays_over_its_last_epochs():
    config = TrainingConfig(epochs=4, learning_rate=1e-3, lr_schedule="wsd", decay_epochs=1, min_lr_ratio=0.1)
    rates = [learning_rate_at(step, 25, config) for step in range(100)]
    constant = TrainingConfig(epochs=4, learning_rate=1e-3)
    assert rates[:75] == [learning_rate_at(step, 25, constant) for step in range(75)]  # a constant run until then
    assert rates[75:] == sorted(rates[75:], reverse=True)
    assert rates[75] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-4, rel=0.05)
    with pytest.raises(ValueError, match="decay_epochs"):
        TrainingConfig(epochs=4, lr_schedule="wsd")  # no decay asked for
    with pytest.raises(ValueError, match="decay_epochs"):
        TrainingConfig(epochs=4, lr_schedule="wsd", decay_epochs=5)


def test_fewer_epochs_than_a_wsd_preset_keep_its_decay_share_and_a_resumed_run_its_decay_length():
    preset = TrainingConfig(epochs=60, lr_schedule="wsd", decay_epochs=20)
    assert preset.with_epochs(5).decay_epochs == 2  # a new run: a third of it decays, as the preset's
    assert preset.with_epochs(1).decay_epochs == 1
    assert preset.with_epochs(90, decay_share=False).decay_epochs == 20  # a run extended: the same decay at its end
    assert preset.with_epochs(8, decay_share=False).decay_epochs == 8
    assert TrainingConfig(epochs=6, lr_schedule="cosine").with_epochs(3).decay_epochs == 0


def test_unknown_choices_are_refused():
    with pytest.raises(ValueError, match="split"):
        TrainingConfig(split="random")
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainingConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="context"):
        NetworkConfig(use_context=False, prior="learned")
