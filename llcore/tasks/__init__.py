"""Forward models of the experiments, each exposed as an llcore `Problem`.

Part of the repository, not of the `llcore` wheel (`pip install .` ships the engine, llcore/*.py, alone): these
modules need the `repro` extra (torchvision, smplx, lpips, ...) and import through ./run_all.sh's editable install.
"""
