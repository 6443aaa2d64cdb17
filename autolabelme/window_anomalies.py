"""The window's anomaly check: Training > Score This Page (Anomalies) runs a trained DEA on the
open page; flagged vignettes are boxed red on the page and marked in the label list, and
View > Show Anomaly Heatmap lays the DEA's heatmap over the page. A mixin of MainWindow; the
scoring is dea_core.dea.scoring's, the verdicts are kept and saved by anomaly_review.PageScores.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PyQt5.QtWidgets import QAction, QGraphicsPixmapItem, QMenu, QUndoCommand

from autolabelme.actions import make_action
from autolabelme.anomaly_review import PageScores
from autolabelme.box_items import ANOMALY_COLOUR, BoxSpec, BoxStyle
from autolabelme.page_view import pixmap_from_bgr
from autolabelme.training_dialogs import ScoreDialog
from autolabelme.training_menu import ModelCache
from dea_core.dea.record import full_colour_heat
from dea_core.matching.review import box_quad

ANOMALY = "anomaly"
HEATMAP_Z = 0.5  # over the page picture, under every box


def _load_scorer(path: Path, device: str) -> object:
    from dea_core.dea.scoring import AnomalyScorer

    return AnomalyScorer.from_checkpoint(path, device)


class ScoresEdit(QUndoCommand):
    """New verdicts for the page (undo puts the previous ones back)."""

    def __init__(self, window, before: PageScores | None, after: PageScores | None) -> None:
        super().__init__("Score the page for anomalies")
        self.window, self.before, self.after = window, before, after

    def redo(self) -> None:
        self.window.apply_scores(self.after)

    def undo(self) -> None:
        self.window.apply_scores(self.before)


class AnomalyMixin:
    """Scoring for MainWindow: the open page's PageScores live in its document."""

    def init_anomalies(self) -> None:
        self._heatmap_item: QGraphicsPixmapItem | None = None
        self._heatmap_of: object = None
        self._scorers = ModelCache(_load_scorer)
        self._scoring_installed = importlib.util.find_spec("dea_core.dea.scoring") is not None
        self.score_action = make_action(self, "&Score This Page (Anomalies)...", self.score_page,
                                        tip="Check each vignette of this page with a trained DEA")
        self.heatmap_action: QAction = make_action(self, "Show Anomaly &Heatmap", self.show_heatmap, ("Ctrl+H",),
                                                   "Lay the DEA's heatmap over the page (score the page first)",
                                                   checkable=True)
        self.heatmap_wanted = True  # the person's choice; the item shows unticked while there is no heatmap
        self.heatmap_action.setChecked(False)

    def add_anomaly_actions(self, view_menu: QMenu) -> None:
        """The heatmap's switch in the View menu (the Training menu places Score This Page itself)."""
        view_menu.addSeparator()
        view_menu.addAction(self.heatmap_action)

    def update_anomaly_actions(self) -> None:
        self.score_action.setEnabled(self._scoring_installed and self.document is not None and not self.is_busy())
        if not self._scoring_installed:
            self.score_action.setToolTip("Needs the DEA engine (dea_core.dea), not installed in this copy")
        scores = self.page_scores()
        available = scores is not None and scores.heatmap is not None
        self.heatmap_action.blockSignals(True)
        self.heatmap_action.setChecked(available and self.heatmap_wanted)
        self.heatmap_action.blockSignals(False)
        self.heatmap_action.setEnabled(available)
        reason = "" if available else " (no heatmap yet: Training > Score This Page first)"
        self.heatmap_action.setStatusTip("Lay the DEA's heatmap over the page" + reason)
        self.heatmap_action.setToolTip(self.heatmap_action.statusTip())

    def page_scores(self) -> PageScores | None:
        return self.document.scores if self.document is not None else None

    def score_page(self) -> None:
        document = self.document
        if document is None or self.is_busy():
            return
        kept = [match for entry in document.review.labels for match in entry.accepted()]
        dialog = ScoreDialog(self.settings.qsettings, document.image_file or document.source, len(kept), self)
        if dialog.exec_() != ScoreDialog.Accepted:
            return
        model, threshold, device = dialog.model.path(), dialog.threshold.value(), dialog.device.currentData()
        image, use_boxes = document.image, dialog.use_page_boxes()

        def work(progress, cancel):
            from dea_core.detection.inference import Detection

            scorer = self._scorers.get(model, device)
            if use_boxes:
                boxes = [Detection(m.label, min(1.0, m.score), m.box) for m in kept]
                return scorer.score_detections(image, boxes, progress, cancel)
            return scorer.score_image(image, progress, cancel, threshold)

        def done(scored) -> None:
            if document is self.document:
                self._push(ScoresEdit(self, document.scores, PageScores.from_scored(scored, str(model))))
                flagged = len(self.page_scores().flagged())
                self.statusBar().showMessage(f"{len(scored.verdicts)} vignettes checked: {flagged} flagged (red). "
                                             "Save to keep the verdicts in the page's JSON.", 15000)

        self._run_detector_work(work, "scoring", done)

    def apply_scores(self, scores: PageScores | None) -> None:
        """Called by ScoresEdit."""
        if self.document is not None:
            self.document.scores = scores
            self._heatmap_of = None  # drawn again from the new heatmap
            self.refresh()

    def show_heatmap(self, on: bool) -> None:
        self.heatmap_wanted = on
        self.sync_heatmap()

    def anomaly_boxes(self) -> list[BoxSpec]:
        """Red boxes on the flagged vignettes; keys ("anomaly", label, index). Also keeps the heatmap
        layer in step with the page (refresh() asks for the boxes whenever the page changes)."""
        self.sync_heatmap()
        scores = self.page_scores()
        if scores is None:
            return []
        return [BoxSpec((ANOMALY, v.label, index), box_quad(v.box), ANOMALY_COLOUR, BoxStyle.FLAGGED, v.tag(),
                        self._describe_verdict(v.label, v))
                for index, v in enumerate(scores.verdicts) if v.anomaly or v.unknown]

    def describe_anomaly(self, key: tuple) -> str:
        scores = self.page_scores()
        if scores is None or key[2] >= len(scores.verdicts):
            return ""
        return self._describe_verdict(key[1], scores.verdicts[key[2]])

    def _describe_verdict(self, label: str, verdict) -> str:
        if verdict.unknown:
            return "Unknown vignette: ink the DEA's detector does not recognise as a known ornament"
        return (f"Label {label} · anomaly score {verdict.anomaly_score:.3f} above the threshold "
                f"{self.page_scores().threshold:.3f} · it differs from what the DEA learnt")

    def show_anomaly_marks(self) -> None:
        scores = self.page_scores()
        self.label_list.set_marks(scores.marks() if scores is not None else {})

    def sync_heatmap(self) -> None:
        """Show this page's heatmap when scored and asked for; never another page's."""
        scores = self.page_scores()
        wanted = scores is not None and scores.heatmap is not None and self.heatmap_wanted
        if self._heatmap_item is not None and (not wanted or self._heatmap_of is not scores):
            self.page_view.scene().removeItem(self._heatmap_item)
            self._heatmap_item, self._heatmap_of = None, None
        if wanted and self._heatmap_item is None:
            from dea_core.anomaly.heatmaps import overlay_heatmap

            overlay = pixmap_from_bgr(overlay_heatmap(self.document.image, scores.heatmap,
                                                      full=full_colour_heat(scores.threshold)))
            self._heatmap_item = self.page_view.scene().addPixmap(overlay)
            self._heatmap_item.setZValue(HEATMAP_Z)
            self._heatmap_of = scores
