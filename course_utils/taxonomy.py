"""The lecture's taxonomy of generative models (section 6.2.1), drawn as a tree.

Notebook 00 draws it as the course map; notebook 06 writes the measured models onto its leaves.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["TAXONOMY", "LEAF_NOTEBOOKS", "taxonomy_figure"]

# node -> children; leaves name the course notebook that covers them ("" = named, not covered)
TAXONOMY = {
    "Maximum likelihood": ["Explicit density", "Implicit density"],
    "Explicit density": ["Tractable density", "Approximate density"],
    "Implicit density": ["Direct:\nGAN", "Markov chain:\nGSN"],
    "Tractable density": ["Autoregressive:\nFVSBN, NADE,\nMADE, PixelCNN,\nPixelRNN", "Change of\nvariables:\nRealNVP flow"],
    "Approximate density": ["Variational:\nVAE", "Markov chain:\nBoltzmann\nmachine"],
}
LEAF_NOTEBOOKS = {
    "Autoregressive:\nFVSBN, NADE,\nMADE, PixelCNN,\nPixelRNN": "02_tractable_density",
    "Change of\nvariables:\nRealNVP flow": "02_tractable_density",
    "Variational:\nVAE": "04_variational_autoencoders",
    "Markov chain:\nBoltzmann\nmachine": "",
    "Direct:\nGAN": "05_gans",
    "Markov chain:\nGSN": "",
}


def _layout(root: str) -> dict[str, tuple[float, float]]:
    """x by leaf order (parents centred over children), y by depth."""
    pos, leaves = {}, []

    def walk(node, depth):
        kids = TAXONOMY.get(node, [])
        for kid in kids:
            walk(kid, depth + 1)
        if kids:
            pos[node] = (sum(pos[k][0] for k in kids) / len(kids), -depth)
        else:
            pos[node] = (float(len(leaves)), -depth)
            leaves.append(node)

    walk(root, 0)
    return pos


def taxonomy_figure(notes: dict[str, str] | None = None, ax=None):
    """Draw the tree; leaves covered by the course are coloured and name their notebook.

    notes: optional extra text under a leaf, keyed by the leaf's notebook or label
    (notebook 06 uses it for the measured numbers).
    """
    notes = notes or {}
    pos = _layout("Maximum likelihood")
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 6))
    for parent, kids in TAXONOMY.items():
        for kid in kids:
            (x0, y0), (x1, y1) = pos[parent], pos[kid]
            ax.plot([x0, x1], [y0 - 0.12, y1 + 0.18], color="0.55", lw=1.2, zorder=1)
    for node, (x, y) in pos.items():
        leaf = node in LEAF_NOTEBOOKS
        nb = LEAF_NOTEBOOKS.get(node, "")
        colour = "#cfe8ff" if nb else ("#eeeeee" if leaf else "#fff2cc")
        label = node + (f"\n→ {nb[:2]}" if nb else ("\n(named only)" if leaf else ""))
        extra = notes.get(node) or (notes.get(nb) if nb else None)
        if extra:
            label += "\n" + extra
        ax.text(x, y, label, ha="center", va="top" if leaf else "center", zorder=2,  # the style's font size
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "0.4"})
    ax.set_xlim(-0.6, len(LEAF_NOTEBOOKS) - 0.4)
    ax.set_ylim(-4.3, 0.3)
    ax.set_axis_off()
    ax.set_title("Taxonomy of generative models (lecture 6.2.1);\nblue leaves are notebooks of this course")
    return ax
