"""The reproduction harness: notebook runner, results files, cache, assets, comparisons.

Part of the repository, not of the `llcore` wheel (`pip install .` ships the engine, llcore/*.py, alone): it needs
the `repro` extra (pandas, matplotlib, papermill, ...) and imports through ./run_all.sh's editable install.
"""
