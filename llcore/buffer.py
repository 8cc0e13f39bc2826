"""Experience-replay buffer of (z_t, y) pairs for the M-step.

The E-step pushes every iterate of every rollout, the M-step samples minibatches uniformly:

    B ← B ∪ {(z_t, y) : t = 0..T, y in the E-step batch}     (FIFO beyond `capacity` pairs)
    M-step minibatch ~ Uniform(B)

Storage is one preallocated ring per field (e.g. z: (capacity, dim_z), y: (capacity, *y_shape)),
allocated on the first push; `memory_bytes` says what it holds. `state_dict` / `load_state_dict`
make it part of a checkpoint, so a resumed run samples exactly what an uninterrupted one would.
"""
from __future__ import annotations

import torch
from torch import Tensor


class ReplayBuffer:
    """A FIFO ring of at most `capacity` rows of named fields (the trainer's: z (dim_z,), y_index ()).

    capacity: the most rows kept (int >= 1); beyond it the oldest rows are overwritten.
    Storage lives on the device and in the dtype of the first push's tensors; later pushes are copied there.
    Attributes: size (valid rows), next (ring position of the next write), pushed (rows pushed ever)."""

    def __init__(self, capacity: int):
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"buffer capacity must be an int >= 1, got {capacity!r}")
        self.capacity = capacity
        self.storage: dict[str, Tensor] = {}
        self.size = 0        # number of valid rows
        self.next = 0        # ring position of the next write
        self.pushed = 0      # rows pushed in total, ever

    def __len__(self) -> int:
        return self.size

    @property
    def memory_bytes(self) -> int:
        """Bytes of the storage: all `capacity` rows of every field once the first push allocated them."""
        return sum(t.numel() * t.element_size() for t in self.storage.values())

    def push(self, **fields: Tensor) -> None:
        """Append n rows; every field has shape (n, ...). The oldest rows are evicted first.

        fields: name=tensor, the same names and row shapes on every push; rows are detached and copied to the
        storage's device. More than `capacity` rows at once keep only the last `capacity`."""
        if not fields:
            raise ValueError("push needs at least one field")
        n = {v.shape[0] for v in fields.values()}
        if len(n) != 1:
            raise ValueError(f"all fields need the same number of rows, got { {k: v.shape[0] for k, v in fields.items()} }")
        n = n.pop()
        if not self.storage:
            self.storage = {k: torch.empty((self.capacity, *v.shape[1:]), dtype=v.dtype, device=v.device)
                            for k, v in fields.items()}
        if set(fields) != set(self.storage):
            raise ValueError(f"fields {sorted(fields)} differ from the buffer's {sorted(self.storage)}")
        for k, v in fields.items():
            if v.shape[1:] != self.storage[k].shape[1:]:
                raise ValueError(f"field {k!r}: row shape {tuple(v.shape[1:])} differs from the buffer's "
                                 f"{tuple(self.storage[k].shape[1:])}")
        if n > self.capacity:           # only the newest `capacity` rows can survive
            fields = {k: v[-self.capacity:] for k, v in fields.items()}
            self.pushed += n - self.capacity
            n = self.capacity
        idx = (self.next + torch.arange(n)) % self.capacity
        for k, v in fields.items():
            self.storage[k][idx.to(self.storage[k].device)] = v.detach().to(self.storage[k].device)
        self.next = (self.next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        self.pushed += n

    def sample(self, n: int, generator: torch.Generator) -> dict[str, Tensor]:
        """n rows drawn uniformly with replacement from the valid rows: {field: (n, ...)} on the storage's device.

        generator: the CPU torch.Generator that draws the indices (the trainer's seeded stream)."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        idx = torch.randint(self.size, (n,), generator=generator)
        return {k: v[idx.to(v.device)] for k, v in self.storage.items()}

    def clear(self) -> None:
        """Forget every row (size and write position to 0); storage stays allocated and `pushed` counts on."""
        self.size = self.next = 0

    def state_dict(self) -> dict:
        """capacity, size, next, pushed and the storage (only its `size` valid rows while not full), cloned."""
        return {"capacity": self.capacity, "size": self.size, "next": self.next, "pushed": self.pushed,
                "storage": {k: v[: self.size].clone() if self.size < self.capacity else v.clone()
                            for k, v in self.storage.items()}}

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict` of a buffer with the same capacity (ValueError otherwise). The storage is rebuilt
        on the device of state's tensors (llcore.checkpoint loads them on the CPU)."""
        if state["capacity"] != self.capacity:
            raise ValueError(f"checkpoint buffer capacity {state['capacity']} != this buffer's {self.capacity}")
        self.size, self.next, self.pushed = state["size"], state["next"], state["pushed"]
        self.storage = {}
        for k, v in state["storage"].items():
            full = torch.empty((self.capacity, *v.shape[1:]), dtype=v.dtype, device=v.device)
            full[: v.shape[0]] = v
            self.storage[k] = full
