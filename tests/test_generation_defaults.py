"""The CLI, the Continue panel and the request it sends start from core's generation defaults
(written out in the app and the CLI, which must not load torch to build their controls)."""

from app.panels.continue_panel import DEFAULT_TOP_P
from app.panels.requests import ContinueRequest
from core.cli.main import build_parser
from core.generation import Controls


def test_the_cli_and_the_app_start_from_the_controls_defaults():
    args = build_parser().parse_args(["continue", "piece.mid", "--from-bar", "4", "--bars", "2", "--out", "out.mid"])
    defaults = Controls()
    assert (args.top_p, args.z_scale, args.latent, args.candidates) == (
        defaults.top_p, defaults.z_scale, defaults.latent, defaults.candidates)
    assert DEFAULT_TOP_P == defaults.top_p
    assert {f.name: f.default for f in ContinueRequest.__dataclass_fields__.values()}["top_p"] == defaults.top_p
