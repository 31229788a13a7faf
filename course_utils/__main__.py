"""Command line of the course.

    python -m course_utils train NAME      train one model and write its checkpoint + sidecar
    python -m course_utils train --all     every model
    python -m course_utils evaluate NAME   re-evaluate a shipped checkpoint against its sidecar
    python -m course_utils benchmark       a table of every model (also written to BENCHMARKS.md)
    python -m course_utils benchmark --quick   sidecar metrics, 500 samples: printed (or --output FILE)
    python -m course_utils film            re-record the ring GAN's training film (data/films/) of notebook 05
    python -m course_utils list            the models the course trains
    python -m course_utils slides          every notebook as an offline reveal.js deck in slides/
    python -m course_utils slides --pdf    ... and each deck printed to slides/NN_name.pdf (needs Chromium)
    python -m course_utils student-edition     the notebooks without their solutions, in student/
    python -m course_utils grade NOTEBOOK...   run notebooks in fresh kernels and score their exercises
"""

from __future__ import annotations

import argparse
import sys


def _train(names: list[str], threads: int | None) -> None:
    import os

    from .checkpoints import save
    from .runtime import set_threads
    from .zoo import get_recipe

    # Every core by default (each sidecar names the threads its time was measured with): training runs alone,
    # unlike a notebook, whose kernel leaves a core free for the browser. On a busy machine: --threads 1.
    print(f"training with {set_threads(threads, fallback=os.cpu_count())} torch thread(s)")
    for name in names:
        recipe = get_recipe(name)
        model, metrics, seconds = recipe.run()
        path = save(model, name, metrics=metrics, command=f"python -m course_utils train {name}",
                    train_seconds=seconds, half=recipe.half)
        print(f"{name}: {metrics} in {seconds:.1f} s -> {path}")


def _film() -> None:
    from .gan_film import record_ring_gan, save_film
    from .runtime import set_threads

    set_threads()
    film, history, seconds = record_ring_gan(progress=False)
    path = save_film(film, command="python -m course_utils film", seconds=history.seconds)
    print(f"{history.steps} steps in {history.seconds:.1f} s of training ({seconds:.1f} s with snapshots); "
          f"final: {film.coverage[-1]} -> {path}")


def _evaluate(name: str) -> int:
    from .checkpoints import load_pretrained, read_sidecar
    from .zoo import get_recipe

    recipe = get_recipe(name)
    model = load_pretrained(name)
    got = recipe.headline_value(model)
    want = read_sidecar(name)["metrics"]
    ok = abs(got - want[recipe.headline]) <= recipe.tolerance
    print(f"{name}: {recipe.headline} = {got} (sidecar {want[recipe.headline]}, "
          f"tolerance {recipe.tolerance}) -> {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_train = sub.add_parser("train", help="train models and write their checkpoints")
    p_train.add_argument("names", nargs="*")
    p_train.add_argument("--all", action="store_true")
    p_train.add_argument("--threads", type=int, default=None,
                         help="torch threads (default: OMP_NUM_THREADS, else every core; 1 on a busy machine)")
    p_eval = sub.add_parser("evaluate", help="re-evaluate a checkpoint")
    p_eval.add_argument("name")
    p_bench = sub.add_parser("benchmark", help="measure every model, print a table, write BENCHMARKS.md")
    p_bench.add_argument("--quick", action="store_true", help="fewer samples; for CI (prints; writes only to --output)")
    p_bench.add_argument("--output", default=None,
                         help="file for the tables (default: BENCHMARKS.md for a full run, none for --quick)")
    sub.add_parser("list", help="the models the course trains")
    sub.add_parser("film", help="re-record notebook 05's ring GAN training film (data/films/gan_ring8_film.pt)")
    p_slides = sub.add_parser("slides", help="export the notebooks as offline reveal.js decks")
    p_slides.add_argument("notebooks", nargs="*", help="notebook files (default: every notebooks/NN_*.ipynb)")
    p_slides.add_argument("--output", default="slides", help="folder for the decks (default: slides/)")
    p_slides.add_argument("--pdf", action="store_true",
                          help="also print each deck to NN_name.pdf, one page per slide (headless Chromium)")
    p_student = sub.add_parser("student-edition", help="write the notebooks without solutions (nbgrader's conventions)")
    p_student.add_argument("notebooks", nargs="*", help="instructor notebooks (default: every notebooks/NN_*.ipynb)")
    p_student.add_argument("--output", default="student", help="folder for the student edition (default: student/)")
    p_grade = sub.add_parser("grade", help="run notebooks in fresh kernels and print each exercise's score")
    p_grade.add_argument("notebooks", nargs="+", help="notebook files (instructor or student edition)")
    p_grade.add_argument("--cell-timeout", type=int, default=600, help="seconds a cell may run (default 600)")
    args = parser.parse_args(argv)

    if args.cmd == "student-edition":
        from pathlib import Path

        from .student_edition import write_student_edition

        paths = [Path(p) for p in args.notebooks] or sorted(Path("notebooks").glob("[0-9][0-9]*_*.ipynb"))
        if not paths:
            parser.error("no notebooks found: run from the course's folder or name the notebooks")
        for path in write_student_edition(paths, Path(args.output)):
            print(path)
        return 0
    if args.cmd == "grade":
        from .grading import main as grade_main

        return grade_main(args.notebooks, args.cell_timeout)

    if args.cmd == "slides":
        from .slides import export_slides, find_chromium, print_pdf

        if args.pdf:
            try:
                find_chromium()  # before the export, which takes a while
            except (FileNotFoundError, RuntimeError) as e:
                parser.error(str(e))
        decks = export_slides(args.notebooks or None, args.output)
        for deck in decks:
            print(deck)
        for pdf in print_pdf(decks) if args.pdf else []:
            print(pdf)
        print("open one in a browser (no network needed); press S for speaker notes, F for full screen")
        return 0

    from .zoo import RECIPES

    if args.cmd == "film":
        _film()
        return 0
    if args.cmd == "list":
        for r in RECIPES.values():
            print(f"{r.name:24s} {r.description}")
        return 0
    if args.cmd == "train":
        names = list(RECIPES) if args.all else args.names
        if not names:
            parser.error(f"name a model to train (one of: {', '.join(RECIPES)}) or pass --all")
        _train(names, args.threads)
        return 0
    if args.cmd == "evaluate":
        return _evaluate(args.name)
    if args.cmd == "benchmark":
        from .benchmark import run_benchmark

        # Only a full run replaces the committed BENCHMARKS.md; a quick one prints unless told where to write.
        run_benchmark(quick=args.quick, output=args.output or (None if args.quick else "BENCHMARKS.md"))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
