"""Every generation panel reports its run the same way (app/panels/run_feedback.py)."""

import pytest

from app.panels.arrange_panel import ArrangePanel
from app.panels.continue_panel import ContinuePanel
from app.panels.interpolate_panel import InterpolatePanel


@pytest.mark.parametrize("panel_class", [ContinuePanel, InterpolatePanel, ArrangePanel])
def test_busy_progress_and_status_show_in_the_panel(qtbot, panel_class):
    panel = panel_class()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_busy(True)
    assert panel.busy and panel.progress.cancel_button.isVisible() and not panel.run_button.isEnabled()
    panel.set_progress(0.5, "bar 4 of 8")
    assert panel.progress.bar.value() == 500 and panel.status_text() == "bar 4 of 8"
    panel.set_status("Cancelled.", error=True)
    assert panel.status_text() == "Cancelled."
    panel.set_busy(False)
    assert not panel.busy and not panel.progress.cancel_button.isVisible()


@pytest.mark.parametrize("panel_class", [ContinuePanel, ArrangePanel])
def test_panels_with_variations_list_them_and_say_why_audition_is_off(qtbot, panel_class):
    panel = panel_class()
    qtbot.addWidget(panel)
    panel.show_candidates(["Variation 1", "Variation 2"], chosen=1)
    assert panel.candidate_box.candidates.count() == 2 and panel.candidate_box.candidates.currentRow() == 1
    panel.set_can_play(False, "no sound device")
    assert "no sound device" in panel.candidate_box.audition_button.toolTip()
    panel.clear_candidates()
    assert panel.candidate_box.candidates.count() == 0
    assert panel.keep_mode() in ("insert", "replace", "take")
