"""The lecture's taxonomy of generative models (section 6.2.1), drawn as a tree.

Notebook 00 draws it as the course map; notebook 06 writes the measured models onto its leaves.
The two "Markov chain" leaves carry the lecture's name only: the models the literature puts there
(e.g. Boltzmann machines, generative stochastic networks, in Goodfellow's NIPS 2016 tutorial) are
the course's examples, named in notebook 00's text, not the lecture's.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["TAXONOMY", "LABELS", "LEAF_NOTEBOOKS", "label", "taxonomy_figure"]

# node -> children; leaves name the course notebook that covers them ("" = named, not covered)
TAXONOMY = {
    "Maximum likelihood": ["Explicit density", "Implicit density"],
    "Explicit density": ["Tractable density", "Approximate density"],
    "Implicit density": ["Direct:\nGAN", "Markov chain (implicit density)"],
    "Tractable density": ["Autoregressive:\nFVSBN, NADE,\nMADE, PixelCNN,\nPixelRNN", "Change of\nvariables:\nRealNVP flow"],
    "Approximate density": ["Variational:\nVAE", "Markov chain (approximate density)"],
}
# the text drawn where it differs from the node's key: the lecture names both leaves "Markov chain"
LABELS = {
    "Markov chain (implicit density)": "Markov chain",
    "Markov chain (approximate density)": "Markov chain",
}
LEAF_NOTEBOOKS = {
    "Autoregressive:\nFVSBN, NADE,\nMADE, PixelCNN,\nPixelRNN": "02_tractable_density",
    "Change of\nvariables:\nRealNVP flow": "02_tractable_density",
    "Variational:\nVAE": "04_variational_autoencoders",
    "Markov chain (approximate density)": "",
    "Direct:\nGAN": "05_gans",
    "Markov chain (implicit density)": "",
}


def label(node: str) -> str:
    """The text the figure draws for a node (its key, unless LABELS says otherwise)."""
    return LABELS.get(node, node)


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

    notes: optional extra text under a leaf, keyed by the leaf's key in TAXONOMY or its notebook
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
        text = label(node) + (f"\n→ {nb[:2]}" if nb else ("\n(named only)" if leaf else ""))
        extra = notes.get(node) or (notes.get(nb) if nb else None)
        if extra:
            text += "\n" + extra
        ax.text(x, y, text, ha="center", va="top" if leaf else "center", zorder=2,  # the style's font size
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "0.4"})
    ax.set_xlim(-0.6, len(LEAF_NOTEBOOKS) - 0.4)
    ax.set_ylim(-4.3, 0.3)
    ax.set_axis_off()
    ax.set_title("Taxonomy of generative models (lecture 6.2.1);\nblue leaves are notebooks of this course")
    return ax
