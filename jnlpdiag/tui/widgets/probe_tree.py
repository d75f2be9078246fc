"""Every probe, grouped by layer in root-cause order, with a live state (queued, running, verdict)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from jnlpdiag.findings import Finding, Layer, Status, worst
from jnlpdiag.tui.state import DONE, RUNNING, ProbeView, RunView
from jnlpdiag.tui.widgets.labels import STATUS_STYLE, probe_badge, seconds, status_badge
from jnlpdiag.tui.widgets.tree_util import find, walk


class ProbeTree(Tree[str]):
    """Node data: ``layer:<name>``, ``probe:<id>`` or ``finding:<id>``."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("probes", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._probe_nodes: dict[str, TreeNode[str]] = {}

    def probe_label(self, pv: ProbeView, model: RunView, frame: int = 0) -> Text:
        label = probe_badge(pv, frame)
        label.append(f" {pv.id}", style="bold")
        if pv.phase == RUNNING:
            label.append(f"  {seconds(pv.elapsed(time.monotonic()))}", style="cyan")
        elif pv.phase == DONE and pv.duration_ms is not None:
            label.append(f"  {seconds(pv.duration_ms / 1000)}", style="dim")
        findings = model.findings_of(pv.id)
        if len(findings) == 1:
            label.append(f"  {findings[0].title}")
        elif findings:
            label.append(f"  {len(findings)} findings", style="italic")
        elif pv.phase != DONE and pv.description:
            label.append(f"  {pv.description}", style="dim")
        return label

    def rebuild(self, model: RunView, show_passed: bool, frame: int = 0) -> None:
        """Redraw from the model, keeping the cursor and what the user expanded or folded."""
        keep = self.cursor_node.data if self.cursor_node is not None else None
        nodes = walk(self.root)
        folded = {n.data for n in nodes if n.data and not n.is_expanded and n.children}
        opened = {n.data for n in nodes if n.data and n.is_expanded}
        self.clear()
        self._probe_nodes = {}
        for layer, views in model.layers(show_passed):
            layer_node = self.root.add(self._layer_label(layer, views), data=f"layer:{layer.value}",
                                       expand=f"layer:{layer.value}" not in folded)
            for pv in views:
                findings = model.findings_of(pv.id)
                key = f"probe:{pv.id}"
                if len(findings) > 1:
                    bad = worst([f.status for f in findings]) not in (Status.PASS, Status.SKIP)
                    node = layer_node.add(self.probe_label(pv, model, frame), data=key,
                                          expand=(bad and key not in folded) or key in opened)
                    for f in findings:
                        if show_passed or f.status is not Status.PASS:
                            line = status_badge(f.status).append(f" {f.title}")
                            node.add_leaf(line, data=f"finding:{f.id}")
                else:
                    node = layer_node.add_leaf(self.probe_label(pv, model, frame), data=key)
                self._probe_nodes[pv.id] = node
        if not model.probes:
            self.root.add_leaf(Text("No probe selected.", style="dim"), data="note")
        elif not any(self.root.children):
            self.root.add_leaf(Text("Every check passed; press p to show them.", style="dim"), data="note")
        target = find(self.root, keep) if keep else None
        if target is not None:
            self.call_after_refresh(self.move_cursor, target)

    def node_for(self, finding: Finding) -> TreeNode[str] | None:
        """The row that shows ``finding``: its own leaf, or its probe's row when that is the only one."""
        return find(self.root, f"finding:{finding.id}") or find(self.root, f"probe:{finding.probe}")

    def select_quietly(self, node: TreeNode[str]) -> None:
        """Put the cursor on ``node`` (unfolding its parents) and scroll it into view."""
        parent = node.parent
        while parent is not None and parent is not self.root:
            parent.expand()
            parent = parent.parent
        self.move_cursor(node)
        self.call_after_refresh(self.scroll_to_node, node)

    def refresh_running(self, model: RunView, frame: int) -> None:
        """Tick the spinner and elapsed time of running probes without rebuilding the tree."""
        for pid, node in self._probe_nodes.items():
            pv = model.probes.get(pid)
            if pv is not None and pv.phase == RUNNING:
                node.set_label(self.probe_label(pv, model, frame))

    def update_probe(self, model: RunView, probe_id: str, frame: int = 0) -> None:
        node = self._probe_nodes.get(probe_id)
        pv = model.probes.get(probe_id)
        if node is not None and pv is not None:
            node.set_label(self.probe_label(pv, model, frame))

    @staticmethod
    def _layer_label(layer: Layer, views: list[ProbeView]) -> Text:
        label = Text(layer.value.upper(), style="bold underline")
        done = [pv.status for pv in views if pv.phase == DONE and pv.status]
        if done:
            w = Status.SKIP if all(s is Status.SKIP for s in done) else worst(done)
            label.append("  ")
            label.append(f"{w.symbol} {w.value.upper()}", style=STATUS_STYLE[w])
        label.append(f"  {sum(1 for pv in views if pv.phase == DONE)}/{len(views)}", style="dim")
        return label
