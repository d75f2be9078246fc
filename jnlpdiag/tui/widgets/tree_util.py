"""Helpers shared by the two trees: walk the nodes, find a node by its data."""

from __future__ import annotations

from textual.widgets.tree import TreeNode


def walk(node: TreeNode[str]) -> list[TreeNode[str]]:
    """Every descendant of ``node``, depth first."""
    out = []
    for child in node.children:
        out.append(child)
        out.extend(walk(child))
    return out


def find(node: TreeNode[str], data: str) -> TreeNode[str] | None:
    return next((n for n in walk(node) if n.data == data), None)
