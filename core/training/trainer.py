"""Training: the loop, its configuration, callbacks, checkpoints and exact resume (spec section 4).

One epoch is a pass over the training batches (optimizer steps, dropout and batch norm in training
mode) followed by a pass over the validation batches (eval mode, no updates). After each epoch the
run folder gets ``last.safetensors`` (everything needed to resume; the one before it is kept as
``previous.safetensors``, which ``resume`` falls back to when ``last`` is damaged), ``best.safetensors`` + ``best.json``
when the validation loss improved, and ``records.json`` (per-step and per-epoch records). ``last`` is
also saved every ``checkpoint_minutes`` within an epoch. The batch order, the latent noise and the
dropout masks are functions of (seed, epoch, batch), so ``resume`` continues exactly where
``last`` stood, on any number of processes.

Beyond the original: early stopping on the validation loss with patience (the original stopped by
hand), scheduled sampling (:mod:`core.training.scheduled_sampling`), mixed precision (bfloat16 or float16
autocast) and cuDNN autotuning on CUDA, device auto-selection, data-parallel training on several
processes (:mod:`core.training.distributed`: process 0 writes the files), progress read from the device only
every ``log_every`` steps (no per-step host synchronisation on a GPU), and callbacks that report
progress and may ask to stop.
The validation loss used for early stopping weights the KL by ``beta_max`` (not the current annealed
beta), so that it is comparable from epoch to epoch.

Callbacks receive a :class:`Progress` after every step, epoch and save, and may return
:class:`Stop` values; :meth:`Trainer.request_stop` does the same from another thread (the app's Stop
and Cancel buttons, the CLI's Ctrl-C): ``AFTER_EPOCH`` finishes the epoch, validates and saves,
``NOW`` returns at once and keeps the last checkpoint.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from core.model import checkpoints
from core.model.batching import PairBatch, PairSet
from core.training.distributed import (
    Cluster, data_parallel, latent_noise, meets_in_shared_memory, seed_of, shared_noise, synchronise_batch_norms,
)
from core.errors import CheckpointError, TrainingError
from core.model.keyed_dropout import row_keys
from core.model.network import MahlerNet, NetworkConfig
from core.model.objective import Totals, beta_at, loss_denominators, losses, prior_of
from core.training.scheduled_sampling import mix, sampling_probability
from core.preprocess.splits import split_works


@dataclass(frozen=True)
class TrainingConfig:
    """Every training choice (the network's are in :class:`NetworkConfig`)."""

    epochs: int = 50
    batch_size: int = 128
    optimizer: str = "adam"  # "adam" or "rmsprop" (TF1 semantics, as the original)
    learning_rate: float = 1e-3
    clip_value: float = 1.0  # every gradient element clipped to [-clip, clip]; 0 = off
    regularization: float = 0.0  # L2 on weight matrices: regularization * sum(||W||^2) / 2
    beta_max: float = 1.0
    beta_annealing: bool = False
    beta_rate: float = 0.999
    free_nats: float = 0.0
    scheduled_sampling_rate: float = 0.0  # k of the inverse-sigmoid schedule; 0 = teacher forcing
    scheduled_sampling_ceiling: float = 1.0
    validation_ratio: float = 0.1
    split: str = "bars"  # "works": whole works to train / validation / test (core/preprocess/splits.py); "bars": random bars (original)
    test_ratio: float = 0.1  # share of works held out for testing (split = "works")
    lr_schedule: str = "constant"  # "constant"; "cosine": warm-up, then cosine decay to min_lr_ratio over the epochs;
    # "wsd": warm-up, stable, then cosine decay over the last decay_epochs (a constant run extended by a decay)
    warmup_steps: int = 0
    decay_epochs: int = 0  # "wsd" only: the epochs at the end over which the rate decays
    min_lr_ratio: float = 0.05
    patience: int = 5  # epochs without a better validation loss before stopping; 0 = never
    seed: int = 1
    max_events: int = 0  # skip bars with more events; 0 = keep all
    transpose: int = 0  # move each training pair by a random -N..N semitones (augmentation); 0 = off
    amp: bool = True  # mixed precision on CUDA: bfloat16 autocast where the GPU has it, else float16 with loss scaling
    # steps between progress reports (the only host syncs of the loop; with several processes, a meeting
    # of them); 0 = every step on one CPU process, 10 on several, 50 on a GPU
    log_every: int = 0
    checkpoint_minutes: float = 10.0  # also save `last` this often within an epoch; 0 = epoch ends only

    def __post_init__(self) -> None:
        if self.split not in ("bars", "works"):
            raise ValueError(f"split must be 'bars' or 'works', not {self.split!r}")
        if self.lr_schedule not in ("constant", "cosine", "wsd"):
            raise ValueError(f"lr_schedule must be 'constant', 'cosine' or 'wsd', not {self.lr_schedule!r}")
        if self.lr_schedule == "wsd" and not 1 <= self.decay_epochs <= self.epochs:
            raise ValueError(f"lr_schedule 'wsd' needs decay_epochs from 1 to epochs ({self.epochs}), not {self.decay_epochs}")

    def with_epochs(self, epochs: int, decay_share: bool = True) -> "TrainingConfig":
        """The same settings for ``epochs`` epochs. A "wsd" decay keeps its share of the run when a
        run starts (a preset's last 20 of 60 epochs become the last 2 of 5), or with ``decay_share``
        off (a resumed run) its length, shortened to the run where the run is shorter."""
        values = dict(self.to_dict(), epochs=epochs)
        if self.lr_schedule == "wsd":
            decay = round(self.decay_epochs * epochs / self.epochs) if decay_share else self.decay_epochs
            values["decay_epochs"] = min(max(decay, 1), epochs)
        return TrainingConfig.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainingConfig":
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Stop(enum.IntEnum):
    NO = 0
    AFTER_EPOCH = 1
    NOW = 2


@dataclass(frozen=True)
class Progress:
    """What a callback hears. ``kind``: ``start``, ``step``, ``epoch``, ``save``, ``end``.

    ``metrics`` holds the running training metrics of the epoch (``step``), or ``train_*`` and
    ``val_*`` metrics of the finished epoch (``epoch``, ``end``). Epochs count from 1.
    """

    kind: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    global_step: int
    metrics: dict[str, float]
    events_per_second: float
    elapsed_s: float
    eta_s: float | None
    message: str = ""


Callback = Callable[[Progress], "Stop | None"]


@dataclass(frozen=True)
class TrainingResult:
    run_dir: Path
    epochs_done: int
    best_epoch: int
    best_loss: float
    stopped: str  # "finished", "early", "requested", "now"
    records: dict[str, list]


class TFRMSprop(torch.optim.Optimizer):
    """RMSProp as TensorFlow 1 defined it: accumulator starts at 1, epsilon inside the square root."""

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float = 1e-3, decay: float = 0.9, eps: float = 1e-10):
        super().__init__(params, {"lr": lr, "decay": decay, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> None:
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                if "square_average" not in state:
                    state["square_average"] = torch.ones_like(parameter)
                average = state["square_average"]
                average.mul_(group["decay"]).addcmul_(parameter.grad, parameter.grad, value=1 - group["decay"])
                parameter.addcdiv_(parameter.grad, (average + group["eps"]).sqrt(), value=-group["lr"])


def select_device(name: str | None = None) -> torch.device:
    """``auto`` (or None): CUDA, else Apple's MPS, else the CPU; otherwise the named device."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TrainingError(f"unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError("no CUDA device is available here (use --device cpu or auto)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise TrainingError("no MPS device is available here (use --device cpu or auto)")
    return device


def describe_hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), torch {torch.__version__}"
    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}"


def mixed_precision_type(device: torch.device) -> torch.dtype | None:
    """The autocast type of training on ``device``: bfloat16 on a CUDA GPU that runs the network's
    LSTMs in it (Ampere and later: no loss scaling, so no per-step check of the gradients on the
    host), else float16 with loss scaling; None (float32) off CUDA, where autocast gains nothing here."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if _lstm_runs_in_bfloat16(device) else torch.float16


def _lstm_runs_in_bfloat16(device: torch.device) -> bool:
    """Whether an LSTM steps forward and backward under bfloat16 autocast on ``device`` (tried once)."""
    if not torch.cuda.is_bf16_supported():
        return False
    try:
        lstm = torch.nn.LSTM(8, 8, batch_first=True).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            outputs, _ = lstm(torch.randn(2, 3, 8, device=device))
        outputs.float().sum().backward()
        return True
    except RuntimeError:
        return False


def learning_rate_at(step: int, steps_per_epoch: int, config: TrainingConfig) -> float:
    """The learning rate of optimizer step ``step`` (from 0): constant, or a linear warm-up over
    ``warmup_steps`` followed by a cosine decay to ``min_lr_ratio`` of the rate at the last epoch:
    over all the epochs (``cosine``) or over the last ``decay_epochs`` only (``wsd``, warm-up, stable,
    decay). With no warm-up, a ``wsd`` run is a ``constant`` run until its decay begins, so a constant
    run that was still improving can be resumed into a decay and match a ``wsd`` run from scratch."""
    rate = config.learning_rate
    if config.lr_schedule == "constant":
        return rate
    if step < config.warmup_steps:
        return rate * (step + 1) / config.warmup_steps
    decay_start = config.warmup_steps
    if config.lr_schedule == "wsd":
        decay_start = max((config.epochs - config.decay_epochs) * steps_per_epoch, config.warmup_steps)
        if step < decay_start:
            return rate
    total = max(config.epochs * steps_per_epoch - decay_start, 1)
    progress = min((step - decay_start) / total, 1.0)
    floor = rate * config.min_lr_ratio
    return floor + (rate - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model: MahlerNet, config: TrainingConfig) -> torch.optim.Optimizer:
    """The optimizer of ``model`` (on its device). Adam is torch's fused kernel on CPUs and CUDA GPUs:
    on one CPU thread it steps the small preset's 4.1 M parameters in 3 ms where the per-tensor loop
    took 13 ms, a cost every process of a data-parallel run pays in full (benchmarks/README.md, ddp.py)."""
    if config.optimizer == "adam":
        fused = next(model.parameters()).device.type in ("cpu", "cuda")
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate, fused=fused)
    if config.optimizer == "rmsprop":
        return TFRMSprop(model.parameters(), lr=config.learning_rate)
    raise TrainingError(f"unknown optimizer {config.optimizer!r} (use adam or rmsprop)")


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: PairBatch, config: TrainingConfig, beta: float,
    probability: float, autocast: contextlib.AbstractContextManager | None = None,
    regularized: list[torch.nn.Parameter] | None = None, scaler: torch.amp.GradScaler | None = None,
    cluster: Cluster = Cluster(), keys: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """One optimizer step on ``batch``; returns the batch statistics and the loss as tensors on the
    device (reading them is the caller's choice: on a GPU, each read waits for the step to finish).

    ``scaler`` (float16 autocast on CUDA) scales the loss against gradient underflow; gradients are
    unscaled before clipping. With several processes (``cluster``), ``model`` is wrapped in DDP and
    ``batch`` is this process's share of the global batch: the loss returned is its share of the
    global loss, and the gradients are those of the global batch (see :mod:`core.training.distributed`).
    ``keys``: the rows' dropout keys (:mod:`core.model.keyed_dropout`), or None for torch's generator.
    """
    resample = (lambda net, top, b: mix(net, top, b, probability)) if probability > 0 else None
    denominators = None
    if cluster.distributed:  # the global batch's counts, summed where the processes meet anyway
        denominators = cluster.total(loss_denominators(batch, getattr(model, "module", model).config.properties))
    with autocast or contextlib.nullcontext():
        outputs = model(batch, sample=True, resample=resample, keys=keys)
        loss, statistics = losses(outputs.logits, outputs.mu, outputs.logvar, batch, beta, config.free_nats, prior_of(outputs), denominators)
        if config.regularization and regularized:
            penalty = 0.5 * config.regularization * sum(p.float().pow(2).sum() for p in regularized)
            loss = loss + penalty / cluster.world  # each process adds its share: the shares add up to it
    optimizer.zero_grad(set_to_none=True)
    # DDP averages the gradients of the processes; scaled by the process count, that is their sum.
    scaled = loss * cluster.world if cluster.distributed else loss
    if scaler is not None and scaler.is_enabled():
        scaler.scale(scaled).backward()
        scaler.unscale_(optimizer)
        if config.clip_value:
            torch.nn.utils.clip_grad_value_(model.parameters(), config.clip_value)
        scaler.step(optimizer)
        scaler.update()
    else:
        scaled.backward()
        if config.clip_value:
            torch.nn.utils.clip_grad_value_(model.parameters(), config.clip_value)
        optimizer.step()
    return statistics, loss.detach().float()


LAST = "last.safetensors"
PREVIOUS = "previous.safetensors"


def _latest_state(run_dir: Path) -> tuple[checkpoints.TrainingState | None, list[str]]:
    """The newest training checkpoint of ``run_dir`` that loads (``last``, else ``previous``) and a
    line for each one passed over; (None, ...) when neither exists."""
    warnings = []
    for name in (LAST, PREVIOUS):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            return checkpoints.load_training_state(path), warnings
        except CheckpointError as error:
            warnings.append(f"{error}; trying the checkpoint before it" if name == LAST else str(error))
    if warnings:
        warnings.append(f"{run_dir}: no checkpoint of this run loads; it starts over")
    return None, warnings


def read_run_info(run_dir: str | Path) -> tuple[NetworkConfig, TrainingConfig, dict[str, Any]]:
    """The configs and info a run folder was started with (its ``run.json``)."""
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / "run.json").read_text())
        return NetworkConfig.from_dict(info["network"]), TrainingConfig.from_dict(info["training"]), info
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TrainingError(f"{run_dir}: not a resumable run folder ({error})") from None


class Trainer:
    """Trains one run folder; build with :meth:`start` (new run) or :meth:`resume`."""

    def __init__(
        self, run_dir: Path, pairs: PairSet, model: MahlerNet, config: TrainingConfig, run_info: dict[str, Any],
        device: torch.device, callbacks: Iterable[Callback] = (),
    ):  # fmt: skip
        self.run_dir, self.pairs, self.config, self.run_info = Path(run_dir), pairs, config, run_info
        self.cluster = Cluster.current()
        self.device = device = self.cluster.device_for(device)
        self.model = model.to(device)
        synchronise_batch_norms(self.model, self.cluster)
        self.network = data_parallel(self.model, self.cluster, device)  # what the training steps run
        self.optimizer = make_optimizer(self.model, config)
        self.callbacks = list(callbacks)
        if config.split == "works":
            works = split_works(pairs.sources, config.seed, config.validation_ratio, config.test_ratio)
            by_split = pairs.split_by_work(works)
            self.train_ids = by_split["train"]
            self.val_ids = pairs.without_copies(by_split["validation"], self.train_ids)
            self.run_info = dict(run_info, split=works.to_dict())
        else:
            self.train_ids, self.val_ids = pairs.split(config.validation_ratio, config.seed)
        if len(self.train_ids) == 0:
            raise TrainingError(f"{run_dir}: no usable bars to train on")
        if model.config.chords and pairs.bar_chords is None:
            raise TrainingError(f"{run_dir}: a chord-conditioned model needs a dataset with chords (preprocess it again)")
        if len(self.train_ids) < self.cluster.world:
            raise TrainingError(f"{run_dir}: {len(self.train_ids)} bars to train on cannot be shared by {self.cluster.world} processes")
        self.state: dict[str, Any] = {
            "epoch": 0, "batch": 0, "global_step": 0, "best_loss": math.inf, "best_epoch": 0, "bad_epochs": 0,
            "totals": None, "elapsed_s": 0.0, "finished": False,
        }  # fmt: skip
        self.records: dict[str, list] = {"steps": [], "epochs": []}
        self._stop = Stop.NO
        self._agreed = Stop.NO  # the stop request every process has seen (several processes)
        self.warnings: list[str] = []  # what the run's start had to say (a damaged checkpoint it passed over)
        self._regularized = [p for n, p in self.model.named_parameters() if p.dim() > 1 and "initial" not in n]
        self.amp_dtype = mixed_precision_type(device) if config.amp else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.log_every = config.log_every or (50 if device.type != "cpu" else 10 if self.cluster.distributed else 1)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    # ---------------------------------------------------------------------------- construction
    @classmethod
    def start(
        cls, run_dir: str | Path, pairs: PairSet, network: NetworkConfig, config: TrainingConfig,
        run_info: dict[str, Any] | None = None, device: str | None = None, callbacks: Iterable[Callback] = (),
        init_from: str | Path | None = None,
    ) -> "Trainer":  # fmt: skip
        """A new run in ``run_dir`` (refused when it already holds one); ``init_from`` fine-tunes."""
        run_dir = Path(run_dir)
        primary = Cluster.current().primary  # with several processes, the others write nothing
        if primary and (run_dir / "run.json").exists():
            raise TrainingError(f"{run_dir}: already holds a run (use --resume, or another folder)")
        if primary and run_dir.is_dir():
            checkpoints.remove_stale_temporaries(run_dir)
        torch.manual_seed(config.seed)
        model = MahlerNet(network)
        if init_from is not None:
            source, _ = checkpoints.load_model(init_from)
            if source.config != network:
                raise TrainingError(f"{init_from}: its network config differs from this run's; cannot fine-tune from it")
            model.load_state_dict(source.state_dict())
        info = dict(run_info or {}, network=network.to_dict(), training=config.to_dict())
        info["init_from"] = str(init_from) if init_from else None
        if primary:
            run_dir.mkdir(parents=True, exist_ok=True)
            checkpoints.write_atomically(run_dir / "run.json", (json.dumps(info, indent=2) + "\n").encode())
        trainer = cls(run_dir, pairs, model, config, info, select_device(device), callbacks)
        if primary and trainer.run_info is not info:  # the works of each split, recorded once they are known
            checkpoints.write_atomically(run_dir / "run.json", (json.dumps(trainer.run_info, indent=2) + "\n").encode())
        return trainer

    @classmethod
    def resume(
        cls, run_dir: str | Path, pairs: PairSet, device: str | None = None, callbacks: Iterable[Callback] = (),
        epochs: int | None = None,
    ) -> "Trainer":  # fmt: skip
        """Continue the run in ``run_dir`` from its ``last`` checkpoint (or from scratch if it has none)."""
        run_dir = Path(run_dir)
        network, config, info = read_run_info(run_dir)
        if epochs is not None:
            config = config.with_epochs(epochs, decay_share=False)
        if Cluster.current().primary:
            checkpoints.remove_stale_temporaries(run_dir)
        saved, warnings = _latest_state(run_dir)
        if saved is None:
            torch.manual_seed(config.seed)
            trainer = cls(run_dir, pairs, MahlerNet(network), config, info, select_device(device), callbacks)
            trainer.warnings = warnings
            return trainer
        trainer = cls(run_dir, pairs, saved.model.train(), config, info, select_device(device), callbacks)
        trainer.warnings = warnings
        trainer.optimizer.load_state_dict(saved.optimizer)
        torch.set_rng_state(saved.rng["cpu"])
        if trainer.device.type == "cuda":
            states = [saved.rng[f"cuda/{i}"] for i in range(torch.cuda.device_count()) if f"cuda/{i}" in saved.rng]
            if states:
                torch.cuda.set_rng_state_all(states)
        trainer.state = dict(saved.trainer, finished=False)
        if trainer.scaler.is_enabled() and trainer.state.get("scaler"):
            trainer.scaler.load_state_dict(trainer.state["scaler"])
        records_path = run_dir / "records.json"
        if records_path.exists():
            records = json.loads(records_path.read_text())
            step, epoch = trainer.state["global_step"], trainer.state["epoch"]
            trainer.records = {
                "steps": [r for r in records.get("steps", []) if r["step"] <= step],
                "epochs": [r for r in records.get("epochs", []) if r["epoch"] <= epoch],
            }
        return trainer

    def request_stop(self, now: bool = False) -> None:
        """Ask the loop to stop after this epoch (saving first) or ``now`` (thread-safe)."""
        self._stop = max(self._stop, Stop.NOW if now else Stop.AFTER_EPOCH)

    # ---------------------------------------------------------------------------------- the loop
    def fit(self) -> TrainingResult:
        config, state = self.config, self.state
        properties = self.model.config.properties
        with_context = self.model.config.use_context
        started = self._started = time.perf_counter() - state["elapsed_s"]
        self._step_time, self._val_time = None, None
        self._emit("start", started, batches=0, metrics={}, message=self.describe_hardware())
        stopped = "finished"
        while state["epoch"] < config.epochs:
            batches = self._batches(self.train_ids, config.seed, state["epoch"], True, with_context)
            totals = Totals(properties, state["totals"])
            self.model.train()
            last_save = time.perf_counter()
            epoch_start, epoch_cpu_start = time.perf_counter(), time.process_time()
            events_at_start = totals.events
            pending: list[torch.Tensor] = []  # per step since the last report: statistics and loss, on the device
            while state["batch"] < len(batches):
                ids = batches[state["batch"]]
                beta = beta_at(state["global_step"], config.beta_max, config.beta_annealing, config.beta_rate)
                probability = sampling_probability(state["global_step"], config.scheduled_sampling_rate, config.scheduled_sampling_ceiling)
                for group in self.optimizer.param_groups:
                    group["lr"] = learning_rate_at(state["global_step"], len(batches), config)
                statistics, loss = self._train_on(ids, state["epoch"], state["batch"], beta, probability)
                pending.append(torch.cat([statistics, loss.reshape(1)]))
                state["batch"] += 1
                state["global_step"] += 1
                if len(pending) < self.log_every and state["batch"] < len(batches):
                    continue
                summed = self._report_sums(torch.stack(pending).sum(0))  # the loop's one wait for the device
                totals.add(summed[:-1])
                loss_mean = float(summed[-1]) / len(pending)
                pending = []
                state["totals"] = totals.values.tolist()
                seconds = time.perf_counter() - epoch_start
                speed = (totals.events - events_at_start) / max(seconds, 1e-9)
                self._step_time = seconds / max(state["batch"], 1)
                step_record = {"step": state["global_step"], "epoch": state["epoch"] + 1, "loss": round(loss_mean, 5),
                               "beta": round(beta, 5), "sampling": round(probability, 4), "events_per_s": round(speed, 1)}  # fmt: skip
                self.records["steps"].append(step_record)
                self._emit("step", started, len(batches), totals.metrics(beta), events_per_second=speed)
                if self._stopping() == Stop.NOW:
                    return self._result("now")
                if config.checkpoint_minutes and time.perf_counter() - last_save > 60 * config.checkpoint_minutes:
                    self._save_last(started)
                    last_save = time.perf_counter()
            train_metrics = totals.metrics(beta_at(state["global_step"], config.beta_max, config.beta_annealing, config.beta_rate))
            train_time, train_cpu = time.perf_counter() - epoch_start, time.process_time() - epoch_cpu_start
            val_start = time.perf_counter()
            val_metrics = self.validate() if len(self.val_ids) else {}
            self._val_time = time.perf_counter() - val_start
            if self._agree_on_stop() == Stop.NOW:
                return self._result("now")
            monitored = val_metrics.get("loss", Totals(properties, state["totals"]).metrics(config.beta_max)["loss"])
            state["epoch"] += 1
            state["batch"], state["totals"] = 0, None
            improved = monitored < state["best_loss"]
            if improved:
                state["best_loss"], state["best_epoch"], state["bad_epochs"] = monitored, state["epoch"], 0
            else:
                state["bad_epochs"] += 1
            epoch_record = {
                "epoch": state["epoch"], "step": state["global_step"], "train": train_metrics, "val": val_metrics,
                "train_s": round(train_time, 2), "val_s": round(self._val_time, 2),
                "train_cpu_s": round(train_cpu, 2),  # this process's CPU time (all its threads): the wall time less its waits
                "events_per_s": round(totals.events / max(train_time, 1e-9), 1),
            }  # fmt: skip
            self.records["epochs"].append(epoch_record)
            merged = {f"train_{k}": v for k, v in train_metrics.items()} | {f"val_{k}": v for k, v in val_metrics.items()}
            self._emit("epoch", started, len(batches), merged, events_per_second=epoch_record["events_per_s"])
            if improved:
                self._save_best(merged)
            self._save_last(started)
            if config.patience and state["bad_epochs"] >= config.patience:
                stopped = "early"
                break
            agreed = self._agree_on_stop()
            if agreed == Stop.NOW:  # Cancel came while the epoch was closing: it is saved, stop here
                return self._result("now")
            if agreed == Stop.AFTER_EPOCH:
                stopped = "requested"
                break
        state["finished"] = True
        self._emit("end", started, 0, {}, message=stopped)
        return self._result(stopped)

    def _batches(self, ids: np.ndarray, seed: int, epoch: int, shuffle: bool, with_context: bool) -> list[np.ndarray]:
        """The global batches of ``ids``; with several processes, none has fewer rows than processes."""
        return self.pairs.batches(ids, self.config.batch_size, seed, epoch, shuffle, with_context, min_rows=max(2, self.cluster.world))

    def _train_on(self, ids: np.ndarray, epoch: int, number: int, beta: float, probability: float) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on global batch ``number`` of ``epoch`` (``ids``): this process trains
        on its share of the rows (:meth:`_share`), with the share of the batch's transpositions and latent noise that
        a single process would have drawn for those rows (:mod:`core.training.distributed`)."""
        mine = self._share(ids)
        shifts = self._transpositions(epoch, number, len(ids))
        batch = self.pairs.collate(ids[mine], self.model.config.use_context, None if shifts is None else shifts[mine])
        noise = shared_noise((self.config.seed, 0, epoch, number), len(ids), self.model.config.z_dim)[mine]
        # Dropout masks: a function of (seed, epoch, batch, row of the global batch), whoever trains the row.
        keys = row_keys(seed_of(self.config.seed, 2, epoch, number), torch.arange(len(ids))[mine])
        if self.device.type == "cuda":  # page-locked: the copies do not wait for the GPU to finish its queue
            batch, noise = batch.pin_memory(), noise.pin_memory()
        batch = batch.to(self.device, non_blocking=True)
        torch.manual_seed(seed_of(self.config.seed, epoch, number, self.cluster.rank))  # scheduled sampling: a function of the step
        with latent_noise(self.model, noise.to(self.device, non_blocking=True)):
            return self._train_step(batch, beta, probability, keys.to(self.device, non_blocking=True))

    def _share(self, ids: np.ndarray) -> slice:
        """This process's rows of the global batch ``ids``: contiguous, with a cost that is as close
        to the other processes' as it can be (:func:`core.training.distributed.balanced_shares`)."""
        if not self.cluster.distributed:
            return slice(0, len(ids))
        contexts = self.pairs.context_lengths[ids] if self.model.config.use_context else None
        return self.cluster.balanced_share(self.pairs.input_lengths[ids], contexts)

    def _report_sums(self, sums: torch.Tensor) -> np.ndarray:
        """``sums`` (statistics and loss of the steps since the last report) added over the
        processes, on the host; the processes agree on stop requests at the same time."""
        if not self.cluster.distributed:
            return np.asarray(sums.tolist())
        flags = torch.tensor([float(self._stop == Stop.AFTER_EPOCH), float(self._stop == Stop.NOW)], device=sums.device)
        values = self.cluster.total(torch.cat([sums.float(), flags])).tolist()
        self._agreed = Stop.NOW if values[-1] else Stop.AFTER_EPOCH if values[-2] else Stop.NO
        return np.asarray(values[:-2])

    def _agree_on_stop(self) -> Stop:
        """The stop request that holds for every process (any process's request counts)."""
        if self.cluster.distributed:
            self._report_sums(torch.zeros(0, device=self.device))
        return self._stopping()

    def _stopping(self) -> Stop:
        return max(self._stop, self._agreed) if not self.cluster.distributed else self._agreed

    def _transpositions(self, epoch: int, batch: int, rows: int) -> np.ndarray | None:
        """Random semitone shifts of one training batch, drawn from (seed, epoch, batch) so that a
        resumed run moves each batch as an uninterrupted one would."""
        most = self.config.transpose
        if not most or self.model.config.instrument_table.has_drums:  # a moved drum key is another drum
            return None
        return np.random.default_rng([self.config.seed, epoch, batch]).integers(-most, most + 1, rows)

    def _train_step(
        self, batch: PairBatch, beta: float, probability: float, keys: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return train_step(
            self.network, self.optimizer, batch, self.config, beta, probability, self._autocast(), self._regularized, self.scaler,
            self.cluster, keys,
        )  # fmt: skip

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Validation metrics (eval mode, z sampled as in training); the loss weights KL by beta_max.
        The latent noise of each validation batch is the same every epoch (and for any number of
        processes), so that epochs differ by their weights only."""
        self.model.eval()
        sums = torch.zeros(len(Totals(self.model.config.properties).values), device=self.device)
        with_context = self.model.config.use_context
        for number, ids in enumerate(self._batches(self.val_ids, self.config.seed, 0, False, with_context)):
            mine = self._share(ids)
            if mine.start == mine.stop:
                continue
            batch = self.pairs.collate(ids[mine], with_context).to(self.device, non_blocking=True)
            noise = shared_noise((self.config.seed, 1, number), len(ids), self.model.config.z_dim)[mine]
            with self._autocast(), latent_noise(self.model, noise.to(self.device, non_blocking=True)):
                outputs = self.model(batch, sample=True)
                _, statistics = losses(outputs.logits, outputs.mu, outputs.logvar, batch, 1.0, self.config.free_nats, prior_of(outputs))
            sums += statistics
            if self._stop == Stop.NOW and not self.cluster.distributed:
                break
        self.model.train()
        totals = Totals(self.model.config.properties)
        totals.add(self.cluster.total(sums))
        return totals.metrics(self.config.beta_max)

    # ------------------------------------------------------------------------------- reporting
    def _autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision on CUDA (:func:`mixed_precision_type`); elsewhere full precision."""
        return torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype is not None else contextlib.nullcontext()

    def describe_hardware(self) -> str:
        """The device (and the process count and precision, when they are not one and float32)."""
        text = describe_hardware(self.device)
        if self.amp_dtype is not None:
            text += f", {str(self.amp_dtype).removeprefix('torch.')} autocast"
        if self.cluster.distributed:
            text += f", {self.cluster.world} processes" + (" (meeting through shared memory)" if meets_in_shared_memory() else "")
        return text

    def _emit(self, kind: str, started: float, batches: int, metrics: dict[str, float], events_per_second: float = 0.0,
              message: str = "") -> None:  # fmt: skip
        state, config = self.state, self.config
        elapsed = time.perf_counter() - started
        eta = None
        if self._step_time is not None and batches:
            epochs_left = config.epochs - state["epoch"]
            steps_left = (batches - state["batch"]) + (epochs_left - 1) * batches if kind == "step" else epochs_left * batches
            val_time = self._val_time if self._val_time is not None else self._step_time * len(self.val_ids) / config.batch_size / 3
            eta = max(0.0, steps_left * self._step_time + epochs_left * val_time)
        progress = Progress(
            kind=kind, epoch=state["epoch"] + (1 if kind == "step" else 0), epochs=config.epochs, batch=state["batch"],
            batches=batches, global_step=state["global_step"], metrics=metrics, events_per_second=events_per_second,
            elapsed_s=elapsed, eta_s=eta, message=message,
        )  # fmt: skip
        for callback in self.callbacks:
            answer = callback(progress)
            if answer:
                self._stop = max(self._stop, Stop(answer))

    def _card(self, metrics: dict[str, float], epochs: int) -> dict[str, Any]:
        info = self.run_info
        return checkpoints.make_card(
            self.model,
            name=info.get("name") or self.run_dir.name,
            preset=info.get("preset"),
            size=info.get("size"),
            training=self.config.to_dict(),
            dataset=info.get("dataset"),
            split=info.get("split"),
            metrics=metrics,
            epochs=epochs,
            global_step=self.state["global_step"],
            hardware=self.describe_hardware(),
            training_time_s=round(self.state["elapsed_s"], 1),
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )

    def _save_best(self, metrics: dict[str, float]) -> None:
        if not self.cluster.primary:  # every process holds the same weights: one writes them
            return
        checkpoints.save_model(self.run_dir / "best.safetensors", self.model, self._card(metrics, self.state["epoch"]))
        self._emit("save", self._started, 0, metrics, message="best")

    def _save_last(self, started: float) -> None:
        self.state["elapsed_s"] = time.perf_counter() - started
        self.state["scaler"] = self.scaler.state_dict() if self.scaler.is_enabled() else None
        if not self.cluster.primary:
            return
        checkpoints.write_atomically(self.run_dir / "records.json", json.dumps(self.records).encode())
        metrics = self.records["epochs"][-1]["val"] if self.records["epochs"] else {}
        card = self._card(metrics, self.state["epoch"])
        last, upcoming = self.run_dir / LAST, self.run_dir / f"{LAST}.next"
        # Written whole first (a full disk leaves `last` as it was), then the checkpoint before stays
        # as `previous`, which a damaged `last` falls back to.
        try:
            checkpoints.save_training_state(upcoming, self.model, self.optimizer, self.state, card)
        except OSError as error:  # a full disk, say: told as a failure to save `last`
            raise OSError(error.errno, error.strerror, str(last)) from None
        if last.exists():
            os.replace(last, self.run_dir / PREVIOUS)
        os.replace(upcoming, last)
        self._emit("save", started, 0, {}, message="last")

    def _result(self, stopped: str) -> TrainingResult:
        state = self.state
        return TrainingResult(self.run_dir, state["epoch"], state["best_epoch"], state["best_loss"], stopped, self.records)
