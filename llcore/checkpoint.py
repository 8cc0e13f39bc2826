"""Files the engine writes and reads: atomic writes, a torch.load with clear errors, θ saved with its recipe,
and a Trainer's full state for bit-exact resumption.

A crash mid-write never leaves a half-written file (write to a temporary file beside it, fsync, rename).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write `data` to `path` atomically (parents created); returns the path."""
    return _atomic(path, lambda f: f.write(data))


def atomic_torch_save(path, obj) -> Path:
    """torch.save(obj) to `path` atomically; returns the path."""
    return _atomic(path, lambda f: torch.save(obj, f))


def torch_load(path, what: str = "file", hint: str = "") -> object:
    """torch.load with a clear error for a missing or corrupt file (weights_only, CPU).

    path: the file (str or Path); what: how the error names the file ("θ checkpoint"); hint: what the user should
    do about it.
    Raises FileNotFoundError (missing) or ValueError (truncated, not a torch file, or pickled code)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}. {hint}".strip())
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, or pickled code
        raise ValueError(f"{what} at {path} is corrupt or not a weights-only torch file "
                         f"({type(e).__name__}: {str(e)[:200]}). {hint}".strip()) from e


# training state: everything needed to continue bit-exactly (θ, AdamW, every shard's buffer and random stream)

def trainer_state(trainer) -> dict:
    """A Trainer's full state as plain tensors and values (what `Trainer.save_checkpoint` writes).

    trainer: a Trainer (or ShardedTrainer); its config, round, seconds, history, θ's and AdamW's state_dicts, and
    every shard's buffer and random-stream state (`trainer.streams()`)."""
    from dataclasses import asdict
    streams = trainer.streams()
    return {"config": asdict(trainer.config), "round": trainer.round, "seconds": trainer.seconds,
            "history": trainer.history, "mapping": trainer.mapping.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "buffers": {k: b.state_dict() for k, (_, b) in streams.items()},
            "generators": {k: g.get_state() for k, (g, _) in streams.items()}}


def restore_trainer(trainer, path) -> None:
    """Load a checkpoint written by `trainer_state` into `trainer`; refuses one written with other settings
    (except rounds and the probe/checkpoint intervals) or lacking a shard this trainer owns.

    path: the checkpoint file (FileNotFoundError if missing, ValueError if corrupt); it is loaded on the CPU, so
    θ and AdamW copy into their own devices and the replay buffers are moved to the trainer's device."""
    from dataclasses import asdict
    from .config import RESUMABLE
    state = torch_load(path, "θ checkpoint", "Delete it to start training afresh.")
    mine, theirs = asdict(trainer.config), state["config"]
    diff = {k: (theirs.get(k), mine[k]) for k in mine if k not in RESUMABLE and theirs.get(k) != mine[k]}
    if diff:
        raise ValueError(f"checkpoint {path} was written with a different configuration "
                         f"(checkpoint, now): {diff}. Delete it or restore the settings.")
    streams = trainer.streams()
    missing = [k for k in streams if k not in state["buffers"]]
    if missing:
        raise ValueError(f"checkpoint {path} holds shards {sorted(state['buffers'])}, not {missing}")
    trainer.mapping.load_state_dict(state["mapping"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    for k, (generator, buffer) in streams.items():
        saved = state["buffers"][k]                                 # loaded on the CPU: back to the trainer's device
        buffer.load_state_dict({**saved, "storage": {n: v.to(trainer.device) for n, v in saved["storage"].items()}})
        generator.set_state(state["generators"][k])
    trainer.round, trainer.seconds, trainer.history = state["round"], state["seconds"], state["history"]


# a trained θ with what it takes to rebuild it

def save_theta(mapping, path, **meta) -> Path:
    """Save θ with its recipe (the mapping's constructor arguments), so `load_theta(path)` rebuilds it alone.

    mapping: an llcore Mapping (ResidualMLP, MLP, Identity, as make_mapping builds them); TypeError for any other
    object (for another torch module use torch.save(module.state_dict(), path)), ValueError for a Mapping without
    a recipe. path: the file, written atomically. `meta`: any plain values to keep beside it (training config,
    problem name, ...). Returns the path."""
    from .mapping import Mapping
    if not isinstance(mapping, Mapping):
        raise TypeError(f"save_theta takes an llcore Mapping (ResidualMLP, MLP or Identity, as made by "
                        f"llcore.make_mapping), got {type(mapping).__module__}.{type(mapping).__qualname__}; for "
                        f"another module use torch.save(module.state_dict(), path) and rebuild it with its "
                        f"constructor")
    if mapping.recipe is None:
        raise ValueError(f"{type(mapping).__name__} has no recipe (only llcore's Identity, ResidualMLP and MLP have "
                         f"one): save its state_dict yourself and rebuild it with its constructor")
    state = {k: v.detach().cpu() for k, v in mapping.state_dict().items()}
    return atomic_torch_save(path, {"format": "llcore.theta/1", "recipe": dict(mapping.recipe), "state": state,
                                    "meta": meta})


def load_theta(path, device="cpu"):
    """The mapping `save_theta` wrote, rebuilt from its recipe, with its weights, on `device`, in eval mode.

    path: the file save_theta wrote (FileNotFoundError if missing, ValueError if corrupt or not a saved θ);
    device: where to put it (default "cpu")."""
    from .mapping import make_mapping
    art = torch_load(path, "saved θ", "Write it with llcore.checkpoint.save_theta.")
    if not isinstance(art, dict) or art.get("format") != "llcore.theta/1":
        raise ValueError(f"{path} is not a θ written by llcore.checkpoint.save_theta")
    recipe = dict(art["recipe"])
    mapping = make_mapping(recipe.pop("name"), **recipe)
    mapping.load_state_dict(art["state"])
    return mapping.to(device).eval()
