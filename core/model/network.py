"""The MahlerNet conditional VAE in PyTorch (spec section 3), readable top to bottom.

Shape of the network (``H`` = state sizes, ``Z`` = latent size):

* **Context encoder** (when ``use_context``): reads the ``K`` previous bars (or START) and returns a
  summary ``[forward final h | backward final h]`` (2H). **Input encoder**: the same on the input bar.
  Each is two independent unidirectional LSTM stacks, one reading forward and one reading the
  sequence reversed within its length (the original's "default" bidirectional type), with trainable
  initial states.
* **VAE**: ``mu`` and ``logvar`` are linear maps of ``[input summary | context summary]``;
  ``z = mu + exp(logvar / 2) * eps``.
* **Decoder**: ``P = dropout(LeakyReLU(BN(Linear(z))))`` is the initial ``h`` and ``c`` of every layer,
  and is fed at every step together with the context summary and the previous event's row (offset,
  beats, duration, pitch, instrument, velocity, active pitches and instruments).
* **Output chain** per step: offset, then duration given the offset and the event's beat, then pitch,
  instrument and velocity, each conditioned on the (teacher-forced or sampled) values before it.
  Masks: no duration 0 (pause) when the offset is 0 (a chord member); optionally no pitch below the
  previous event's pitch within a chord.

Step-wise decoding for generation uses :meth:`MahlerNet.encode_context`, :meth:`encode_input`,
:meth:`initial_state`, :meth:`decode_step` and the ``*_logits`` heads, in that order; the caller
samples each property and builds the next step's row with :func:`core.model.features.step_features`.

Departures from the original implementation (spec sections 3 and 6), all deliberate:

1. ``logvar`` is a free linear output; the original passed it through softplus, forcing sigma^2 >= 1.
2. The KL term is summed over latent dimensions and free bits are a threshold in nats on that sum
   (the usual definition, as in MusicVAE); the original averaged over dimensions, so its weight-1 KL
   is beta = 1 / z_dim here (see objective.py and the continuation preset).
3. Output logits are not batch-normalised by default (the paper's description; the original code
   normalised them). With ``output_norm`` on, a masked batch norm computes its statistics over the
   valid (non-padded) steps only; the original's statistics included padding.
4. All dropout obeys train/eval (the original's output-layer dropout was always on; it was 0 in the
   published configuration). Dropout also follows the top decoder layer, as in the original.
5. Velocity is a fifth property of the chain (``use_velocity``), conditioned on all the others.
6. The context may span ``context_bars`` bars (a data-side choice; the network reads any length).
7. Integer columns become one-hot blocks inside the network (no 367-wide rows on disk).
8. ``condition_size`` (off in the paper-size presets) may squeeze ``[context summary | P]`` through one
   linear layer before it is fed at every step; on a CPU this halves the decoder's input cost.
9. PyTorch's LSTM has separate input and hidden biases and gate order (i, f, g, o): the forget gate's
   input bias starts at +1 (TF's block cell added 1 implicitly); kernels are Glorot-uniform over
   ``input + hidden`` fan-in and ``4H`` fan-out, as TF's combined kernel was.
10. ``prior = "learned"`` (continuation models) adds a prior network ``p(z | context)``: a small MLP
    on the context summary gives ``(prior_mu, prior_logvar)``, the KL is taken from the posterior to
    it (the standard conditional VAE), and generation samples z from it. The original's prior is
    N(0, I) whatever the context (``prior = "standard"``, still the default and the only choice
    without a context): z and the context were trained to be independent, so a z drawn for a new bar
    ignored the key and texture the decoder needed to hear from it (issue #21's measurements).
11. ``encoder_dropout`` also applies to the inputs and the summary of a single-layer encoder
    (``nn.LSTM`` drops only between layers, so in the small presets it did nothing).
12. ``chords`` (off by default; issue #17) feeds the decoder the chords of the bar's two halves at
    every step, beside the context summary and ``P`` (see :mod:`core.harmony.conditioning`), so that
    a z can be decoded over any chord progression.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from core.model.batching import EventBatch, PairBatch
from core.errors import GenerationError
from core.harmony.conditioning import BAR_CHORD_FEATURES, chord_features
from core.model.keyed_dropout import dropout, run_lstm
from core.model.features import event_features, one_hot, step_features, step_width, event_width
from core.model.output_chain import CHAIN_INPUT_SIZES, CONDITIONS, NetworkHeads, run_chain
from core.representation.events import N_PITCHES, PROPERTIES, PROPERTY_SIZES
from core.representation.instruments import TABLES, InstrumentTable

# The dropout sites of keyed dropout (core/model/keyed_dropout.py): each place that drops has its own number.
INPUT_SITES, CONTEXT_SITES, DECODER_SITES, Z_SITE = 100, 200, 300, 400
MASKED = -1e4  # added to forbidden logits: exp() underflows to 0 in fp32, fp16 and bf16 alike


@dataclass(frozen=True)
class NetworkConfig:
    """Every architectural choice. Defaults are the original's published configuration (spec 3.12)."""

    use_context: bool = True  # context encoder on (continuation models) or off (interpolation)
    context_bars: int = 1
    encoder_layers: int = 2
    encoder_size: int = 512
    decoder_layers: int = 2
    decoder_size: int = 512
    z_dim: int = 256
    encoder_dropout: float = 0.35
    decoder_dropout: float = 0.35
    z_dropout: float = 0.35
    use_velocity: bool = True
    condition_size: int = 0  # 0 = feed [context summary | P] as is (original); >0 = project it first
    output_norm: bool = False  # batch-normalise the output logits (original code: yes, over padding)
    norm_momentum: float = 0.01  # PyTorch convention: equals TF's 0.99
    norm_eps: float = 1e-3
    leaky_slope: float = 0.2  # TF's default LeakyReLU slope, which the original used
    next_step_mask: bool = True  # no pause duration on a chord member (offset 0)
    same_step_mask: bool = False  # no pitch below the previous one within a chord
    forget_bias: float = 1.0
    output_init_std: float = 0.001
    prior: str = "standard"  # "standard" = N(0, I) (original); "learned" = p(z | context), see note 10
    prior_size: int = 256  # hidden units of the learned prior's MLP
    chords: bool = False  # the decoder hears the chords of the bar's halves (note 12)
    # The instrument table the instrument classes mean (core.representation.instruments): "mahlernet"
    # drops drums; "pop-drums" has a drum-kit class. It changes no tensor, only what the classes are.
    instruments: str = "mahlernet"

    def __post_init__(self) -> None:
        if self.instruments not in TABLES:
            raise ValueError(f"instruments must be one of {', '.join(sorted(TABLES))}, not {self.instruments!r}")
        if self.prior not in ("standard", "learned"):
            raise ValueError(f"prior must be 'standard' or 'learned', not {self.prior!r}")
        if self.prior == "learned" and not self.use_context:
            raise ValueError("a learned prior needs a context (use_context = true)")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NetworkConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown network settings: {', '.join(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def properties(self) -> tuple[str, ...]:
        return PROPERTIES if self.use_velocity else PROPERTIES[:4]

    @property
    def instrument_table(self) -> InstrumentTable:
        """The table that gives the instrument classes their meaning (and the drum class, if any)."""
        return TABLES[self.instruments]


class DecoderState(NamedTuple):
    """What the decoder carries from step to step: LSTM states and the constant step conditioning."""

    h: torch.Tensor  # (layers, B, H)
    c: torch.Tensor  # (layers, B, H)
    condition: torch.Tensor  # (B, C): fed with every step's row


class Outputs(NamedTuple):
    logits: dict[str, torch.Tensor]  # property -> (B, L, classes), masks applied
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    prior_mu: torch.Tensor | None = None  # the learned prior's parameters (None: N(0, I))
    prior_logvar: torch.Tensor | None = None


def masked_moments(
    x: torch.Tensor, valid: torch.Tensor | None, shift: torch.Tensor,
    total: Callable[[torch.Tensor], torch.Tensor] = lambda value: value,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(mean, biased variance, count)`` over the feature axis of ``x`` at the ``valid`` positions
    (all when None), in float32.

    Masked sums rather than boolean indexing, so that no step waits for the device to say how many
    rows are valid. ``total`` adds a sum up across processes (data-parallel training with batch-norm
    statistics of the whole global batch, :mod:`core.training.distributed`); alone it is the identity.
    The count and the first and second moments about ``shift`` go in one sum, so that processes meet
    once per forward pass (and once per backward) rather than three times and twice; a shift near
    the mean (the running mean) keeps the second moment's subtraction exact enough in float32.
    """
    rows = x.reshape(-1, x.shape[-1]).float()
    weights = rows.new_ones(rows.shape[0], 1) if valid is None else valid.reshape(-1, 1).to(rows.dtype)
    shift = shift.detach().float()  # a constant: no gradient flows to it, and its owner may update it after
    centred = (rows - shift) * weights  # weights are 0 or 1: squaring keeps the mask
    features = rows.shape[-1]
    sums = total(torch.cat([weights.sum().reshape(1), centred.sum(0), centred.pow(2).sum(0)]))
    count = sums[0]
    offset = sums[1 : 1 + features] / count.clamp(min=1)
    var = (sums[1 + features :] / count.clamp(min=1) - offset.pow(2)).clamp(min=0)
    return shift + offset, var, count


class MaskedBatchNorm(nn.Module):
    """Batch norm over the feature axis whose statistics use only the valid (unpadded) positions."""

    @staticmethod
    def total(value: torch.Tensor) -> torch.Tensor:
        """A statistic's sum over every process of the batch: only this one's, unless
        :func:`core.training.distributed.synchronise_batch_norms` made it global."""
        return value

    def __init__(self, features: int, momentum: float, eps: float):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            mean, var, count = masked_moments(x, valid, self.running_mean, self.total)
            with torch.no_grad():
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(unbiased, self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        normalised = (x.float() - mean) * torch.rsqrt(var + self.eps)
        return (normalised * self.weight + self.bias).to(x.dtype)


def _init_lstm(lstm: nn.LSTM, forget_bias: float) -> None:
    hidden = lstm.hidden_size
    for name, parameter in lstm.named_parameters():
        if name.startswith("weight"):
            fan_in = (lstm.input_size if name.endswith("_l0") else hidden) + hidden
            bound = math.sqrt(6.0 / (fan_in + 4 * hidden))
            nn.init.uniform_(parameter, -bound, bound)
        else:
            nn.init.zeros_(parameter)
            if name.startswith("bias_ih"):
                nn.init.constant_(parameter[hidden : 2 * hidden], forget_bias)


def reversed_within_lengths(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, steps) positions that read each sequence backwards within its length (the backward
    encoder's order); padding positions stay where they are."""
    position = torch.arange(steps, device=lengths.device).unsqueeze(0)
    last = (lengths - 1).clamp(min=0).unsqueeze(1)
    return torch.where(position < lengths.unsqueeze(1), last - position, position)


class Encoder(nn.Module):
    """Two independent unidirectional LSTM stacks (forward, backward) with trainable initial states."""

    def __init__(self, input_size: int, size: int, layers: int, dropout: float, forget_bias: float, site: int = 0):
        super().__init__()
        self.dropout = dropout
        self.site = site  # the dropout sites of this encoder, for keyed dropout: site, site + 1, ...
        self.forward_lstm = nn.LSTM(input_size, size, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.backward_lstm = nn.LSTM(input_size, size, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        for lstm in (self.forward_lstm, self.backward_lstm):
            _init_lstm(lstm, forget_bias)
        self.initial = nn.Parameter(torch.zeros(2, 2, layers, 1, size))  # direction, (h, c), layer

    def forward(self, rows: torch.Tensor, lengths: torch.Tensor, keys: torch.Tensor | None = None) -> torch.Tensor:
        """Summaries (B, 2H) of ``rows`` (B, L, features) of ``lengths`` valid steps; ``keys``: the
        rows' dropout keys (:mod:`core.model.keyed_dropout`), or None to draw dropout from torch's generator."""
        batch, steps = rows.shape[:2]
        last = (lengths - 1).clamp(min=0)
        picked = torch.arange(batch, device=rows.device)
        reverse = reversed_within_lengths(lengths, steps)
        reversed_rows = rows.gather(1, reverse.unsqueeze(-1).expand_as(rows))
        summaries = []
        for direction, (lstm, sequence) in enumerate(((self.forward_lstm, rows), (self.backward_lstm, reversed_rows))):
            h0, c0 = (state.expand(-1, batch, -1).contiguous().to(rows.dtype) for state in self.initial[direction])
            outputs, _ = run_lstm(lstm, sequence, (h0, c0), keys, self.site + 1 + 10 * direction)
            summaries.append(outputs[picked, last])
        return dropout(torch.cat(summaries, dim=-1), self.dropout, self.training, keys, self.site)


class MahlerNet(nn.Module):
    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        c = config
        velocity = c.use_velocity
        summary = 2 * c.encoder_size
        self.input_encoder = Encoder(event_width(velocity), c.encoder_size, c.encoder_layers, c.encoder_dropout, c.forget_bias, INPUT_SITES)
        self.context_encoder = (
            Encoder(1 + event_width(velocity), c.encoder_size, c.encoder_layers, c.encoder_dropout, c.forget_bias, CONTEXT_SITES)
            if c.use_context
            else None
        )
        vae_in = summary * (2 if c.use_context else 1)
        self.mu = nn.Linear(vae_in, c.z_dim)
        self.logvar = nn.Linear(vae_in, c.z_dim)
        self.prior_network = (
            nn.Sequential(nn.Linear(summary, c.prior_size), nn.Tanh(), nn.Linear(c.prior_size, 2 * c.z_dim))
            if c.prior == "learned"
            else None
        )
        self.z_projection = nn.Linear(c.z_dim, c.decoder_size)
        self.z_norm = nn.BatchNorm1d(c.decoder_size, eps=c.norm_eps, momentum=c.norm_momentum)
        condition = c.decoder_size + (summary if c.use_context else 0) + (BAR_CHORD_FEATURES if c.chords else 0)
        self.condition_projection = nn.Linear(condition, c.condition_size) if c.condition_size else None
        decoder_in = step_width(velocity) + (c.condition_size or condition)
        self.decoder = nn.LSTM(
            decoder_in, c.decoder_size, c.decoder_layers, batch_first=True, dropout=c.decoder_dropout if c.decoder_layers > 1 else 0.0
        )
        _init_lstm(self.decoder, c.forget_bias)
        # Output chain: each head sees the top decoder output and the one-hots of the values chosen
        # before it (core.model.output_chain.CONDITIONS, in that order).
        self.heads = nn.ModuleDict(
            {
                name: nn.Linear(c.decoder_size + sum(CHAIN_INPUT_SIZES[given] for given in CONDITIONS[name]), PROPERTY_SIZES[name])
                for name in c.properties
            }
        )
        self.head_norms = (
            nn.ModuleDict({name: MaskedBatchNorm(PROPERTY_SIZES[name], c.norm_momentum, c.norm_eps) for name in self.heads})
            if c.output_norm
            else None
        )
        prior_out = [self.prior_network[2]] if self.prior_network is not None else []
        for layer in [self.mu, self.logvar, *self.heads.values(), *prior_out]:
            # On the meta device (a checkpoint's shape check) there is nothing to draw, and a normal
            # draw there goes through torch's Python reference ops, whose first use imports
            # torch._dynamo: 1.2 s, and in the app an import another thread could catch half done.
            if not layer.weight.is_meta:
                nn.init.normal_(layer.weight, 0.0, c.output_init_std)
            nn.init.zeros_(layer.bias)
        for layer in [self.z_projection] + ([self.condition_projection] if self.condition_projection else []):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    # ----------------------------------------------------------------------------------- encoding
    def _rows(self, events: EventBatch, dtype: torch.dtype) -> torch.Tensor:
        velocity = events.velocity if self.config.use_velocity else None
        return event_features(events.offset, events.beat, events.duration, events.pitch, events.instrument, velocity, dtype)

    def encode_context(self, context: EventBatch | None, keys: torch.Tensor | None = None) -> torch.Tensor | None:
        """Summary (B, 2H) of the context bars, or ``None`` for a model without context. ``keys`` (here
        and below): the rows' dropout keys in training (:mod:`core.model.keyed_dropout`), or None."""
        if self.context_encoder is None:
            return None
        if context is None:
            raise ValueError("this model needs a context (previous bars or the START token)")
        dtype = self.z_projection.weight.dtype
        rows = torch.cat([context.is_start.unsqueeze(-1).to(dtype), self._rows(context, dtype)], dim=-1)
        return self.context_encoder(rows, context.lengths, keys)

    def encode_input(
        self, bar: EventBatch, context_summary: torch.Tensor | None, keys: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of the latent code of ``bar`` given its context summary."""
        return self.latent(self.input_encoder(self._rows(bar, self.z_projection.weight.dtype), bar.lengths, keys), context_summary)

    def latent(self, input_summary: torch.Tensor, context_summary: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` from the input encoder's summary of a bar and its context summary."""
        summary = input_summary if context_summary is None else torch.cat([input_summary, context_summary], dim=-1)
        return self.mu(summary), self.logvar(summary)

    def prior(self, context_summary: torch.Tensor | None, rows: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of the prior over z: the learned ``p(z | context)`` of a model with
        ``prior = "learned"``, else N(0, I) as ``rows`` (or the summary's batch) rows of zeros."""
        if self.prior_network is not None and context_summary is not None:
            mu, logvar = self.prior_network(context_summary).chunk(2, dim=-1)
            return mu, logvar
        rows = context_summary.shape[0] if context_summary is not None else rows
        zeros = torch.zeros(rows, self.config.z_dim, device=self.mu.weight.device, dtype=self.mu.weight.dtype)
        return zeros, zeros

    @staticmethod
    def sample_z(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    # ----------------------------------------------------------------------------------- decoding
    def initial_state(
        self, z: torch.Tensor, context_summary: torch.Tensor | None, chords: torch.Tensor | None = None,
        keys: torch.Tensor | None = None,
    ) -> DecoderState:
        """Decoder state before the first step: ``P`` (from z) as every layer's h and c. A model with
        ``chords`` needs ``chords``, the (B, 2) chord indices of the bar's halves; others ignore it."""
        projected = F.leaky_relu(self.z_norm(self.z_projection(z)), self.config.leaky_slope)
        projected = dropout(projected, self.config.z_dropout, self.training, keys, Z_SITE)
        condition = projected if context_summary is None else torch.cat([context_summary, projected], dim=-1)
        if self.config.chords:
            if chords is None:
                raise GenerationError("this model is chord-conditioned (an arranger): use it with `mahlernet arrange`")
            rows = chords.to(projected.device).expand(projected.shape[0], -1) if chords.shape[0] == 1 else chords
            condition = torch.cat([condition, chord_features(rows.to(projected.device), projected.dtype)], dim=-1)
        if self.condition_projection is not None:
            condition = self.condition_projection(condition)
        state = projected.unsqueeze(0).expand(self.config.decoder_layers, -1, -1).contiguous()
        return DecoderState(h=state, c=state, condition=condition)

    def previous_rows(self, previous: EventBatch, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The decoder input rows (..., step_width) of previous events."""
        dtype = dtype or self.z_projection.weight.dtype
        velocity = previous.velocity if self.config.use_velocity else None
        return step_features(
            previous.offset, previous.beat, previous.duration, previous.pitch, previous.instrument, velocity,
            previous.active_pitches, previous.active_instruments, dtype,
        )  # fmt: skip

    def decode(self, rows: torch.Tensor, state: DecoderState, keys: torch.Tensor | None = None) -> tuple[torch.Tensor, DecoderState]:
        """Run the decoder over rows ``(B, L, step_width)``; returns top outputs ``(B, L, H)``."""
        condition = state.condition.unsqueeze(1).expand(-1, rows.shape[1], -1).to(rows.dtype)
        inputs, initial = torch.cat([rows, condition], dim=-1), (state.h.to(rows.dtype), state.c.to(rows.dtype))
        outputs, (h, c) = run_lstm(self.decoder, inputs, initial, keys, DECODER_SITES + 1)
        outputs = dropout(outputs, self.config.decoder_dropout, self.training, keys, DECODER_SITES)
        return outputs, DecoderState(h, c, state.condition)

    def decode_step(self, row: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        """One step: ``row`` (B, step_width) is the previous event's row; returns h (B, H)."""
        outputs, state = self.decode(row.unsqueeze(1), state)
        return outputs[:, 0], state

    # ------------------------------------------------------------------------------ output chain
    def _head(self, name: str, inputs: list[torch.Tensor], valid: torch.Tensor | None) -> torch.Tensor:
        logits = self.heads[name](torch.cat(inputs, dim=-1))
        if self.head_norms is not None:
            logits = self.head_norms[name](logits, valid)
        return logits

    def _chain_head(self, name: str, h: torch.Tensor, given: dict[str, torch.Tensor], valid: torch.Tensor | None) -> torch.Tensor:
        """Head ``name`` on ``h`` and the one-hots of the values it reads (:data:`CONDITIONS`)."""
        inputs = [h, *(one_hot(given[value], CHAIN_INPUT_SIZES[value], h.dtype) for value in CONDITIONS[name])]
        return self._head(name, inputs, valid)

    def offset_logits(self, h: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        return self._chain_head("offset", h, {}, valid)

    def duration_logits(self, h: torch.Tensor, offset: torch.Tensor, beat: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        logits = self._chain_head("duration", h, {"offset": offset, "beat": beat}, valid)
        if self.config.next_step_mask:  # a chord member (offset 0) is a note, never a pause
            logits = logits.clone()
            logits[..., 0] = logits[..., 0] + MASKED * (offset == 0).to(logits.dtype)
        return logits

    def pitch_logits(
        self, h: torch.Tensor, offset: torch.Tensor, beat: torch.Tensor, duration: torch.Tensor,
        previous_pitch: torch.Tensor | None = None, valid: torch.Tensor | None = None,
    ) -> torch.Tensor:  # fmt: skip
        logits = self._chain_head("pitch", h, {"offset": offset, "beat": beat, "duration": duration}, valid)
        if self.config.same_step_mask and previous_pitch is not None:  # chords go upwards
            below = torch.arange(N_PITCHES, device=h.device) < previous_pitch.unsqueeze(-1)
            logits = logits + MASKED * (below & (offset == 0).unsqueeze(-1)).to(logits.dtype)
        return logits

    def instrument_logits(
        self, h: torch.Tensor, offset: torch.Tensor, beat: torch.Tensor, duration: torch.Tensor, pitch: torch.Tensor,
        valid: torch.Tensor | None = None,
    ) -> torch.Tensor:  # fmt: skip
        given = {"offset": offset, "beat": beat, "duration": duration, "pitch": pitch}
        return self._chain_head("instrument", h, given, valid)

    def velocity_logits(
        self, h: torch.Tensor, offset: torch.Tensor, beat: torch.Tensor, duration: torch.Tensor, pitch: torch.Tensor,
        instrument: torch.Tensor, valid: torch.Tensor | None = None,
    ) -> torch.Tensor:  # fmt: skip
        given = {"offset": offset, "beat": beat, "duration": duration, "pitch": pitch, "instrument": instrument}
        return self._chain_head("velocity", h, given, valid)

    def chain_logits(
        self, h: torch.Tensor, offset: torch.Tensor, beat: torch.Tensor, duration: torch.Tensor, pitch: torch.Tensor,
        instrument: torch.Tensor, previous_pitch: torch.Tensor | None = None, valid: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:  # fmt: skip
        """All heads at once, conditioned on given (teacher-forced) values of the earlier properties:
        the output chain (:func:`core.model.output_chain.run_chain`) picking the truth at every head."""
        truth = {"offset": offset, "duration": duration, "pitch": pitch, "instrument": instrument}
        logits: dict[str, torch.Tensor] = {}

        def teacher(name: str, head: torch.Tensor, _: object) -> torch.Tensor:
            logits[name] = head
            return truth.get(name)  # velocity is the last head: nothing reads its value

        run_chain(NetworkHeads(self, h, previous_pitch, valid), teacher, lambda _: beat, self.config.properties)
        return logits

    # ------------------------------------------------------------------------------- whole bars
    def forward(
        self, batch: PairBatch, sample: bool = True, resample: Callable[..., PairBatch] | None = None,
        keys: torch.Tensor | None = None,
    ) -> Outputs:  # fmt: skip
        """Teacher-forced pass over a batch: logits of every property at every step.

        ``keys`` (B,): the rows' dropout keys (:mod:`core.model.keyed_dropout`), so that a row's dropout
        masks do not depend on the process that trains it; None draws them from torch's generator.

        ``resample(model, top, batch) -> batch`` (scheduled sampling) gets the top decoder outputs of a
        first teacher-forced pass without gradients and returns the batch with some previous events
        replaced; the decoder then runs again on those, from the same z and initial state.
        """
        context_summary = self.encode_context(batch.context, keys)
        mu, logvar = self.encode_input(batch.bar, context_summary, keys)
        z = self.sample_z(mu, logvar) if sample else mu
        state = self.initial_state(z, context_summary, batch.chords, keys)
        if resample is not None:
            with torch.no_grad():
                first, _ = self.decode(self.previous_rows(batch.previous, state.condition.dtype), state, keys)
            batch = resample(self, first, batch)
        top, _ = self.decode(self.previous_rows(batch.previous, state.condition.dtype), state, keys)
        bar, valid = batch.bar, batch.bar.mask
        logits = self.chain_logits(
            top, bar.offset, batch.chain_beat, bar.duration, bar.pitch, bar.instrument, batch.previous.pitch, valid
        )
        if self.prior_network is None:
            return Outputs(logits, mu, logvar, z)
        prior_mu, prior_logvar = self.prior(context_summary)
        return Outputs(logits, mu, logvar, z, prior_mu, prior_logvar)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
