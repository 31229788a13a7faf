import matplotlib

matplotlib.use("Agg")

from course_utils.taxonomy import LEAF_NOTEBOOKS, TAXONOMY, label, taxonomy_figure  # noqa: E402


def _leaves():
    children = {kid for kids in TAXONOMY.values() for kid in kids}
    return children - set(TAXONOMY)


def test_every_leaf_has_an_entry_and_every_entry_is_a_leaf():
    assert _leaves() == set(LEAF_NOTEBOOKS)


def test_the_markov_chain_leaves_carry_the_lectures_name_only():
    # the lecture names a "Markov chain" leaf under approximate and under implicit density, no models
    for branch in ["Approximate density", "Implicit density"]:
        drawn = [label(kid) for kid in TAXONOMY[branch]]
        assert "Markov chain" in drawn, (branch, drawn)
    texts = " ".join(label(node) for node in [*TAXONOMY, *_leaves()])
    assert "Boltzmann" not in texts and "GSN" not in texts


def test_the_figure_draws_the_labels_and_the_notes():
    import matplotlib.pyplot as plt

    ax = taxonomy_figure({"05_gans": "FID 1"})
    drawn = [t.get_text() for t in ax.texts]
    assert sum(t.startswith("Markov chain\n(named only)") for t in drawn) == 2
    assert any(t.endswith("→ 05\nFID 1") for t in drawn)
    plt.close(ax.figure)
