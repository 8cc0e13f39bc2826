"""Shared set-up of the 02 settings study (standard backbone, validation images only; not run by run_all.sh).

The study that chose 02's SSL negatives, θ inner lr and rounds; its outputs are in
results/default/adversarial_defense/studies/. Scratch files go to $STUDY_DIR (default /tmp/llcore_studies).
Run from the repo root with the venv, one thread:  OMP_NUM_THREADS=1 .venv/bin/python notebooks/studies/defense_premise.py
"""
import os, time, torch, numpy as np
torch.set_num_threads(1)
STUDY = os.environ.get("STUDY_DIR", "/tmp/llcore_studies")
os.makedirs(STUDY, exist_ok=True)
from llcore.repro.cache import cached
from llcore.tasks import attacks
from llcore.tasks.classifiers import accuracy, load_classifier, train_classifier
from llcore.tasks.data import mnist_split
from llcore.tasks.ssl import Augment, SSLLoss, load_ssl_head, train_ssl_head
from llcore.tasks.defense import reversal_problem, accuracy_along
split = mnist_split()
x_train, y_train = split["train"]
x_val, y_val = x_train[-100:], y_train[-100:]
def backbone(b="standard"):
    epochs = 10 if b == "standard" else 12
    art = cached("adv_classifier", {"data": "mnist", "kind": b, "epochs": epochs, "eps": 0.3},
                 lambda: train_classifier(x_train, y_train, b, epochs=epochs, eps=0.3))
    m = load_classifier(art)
    hart = cached("adv_ssl_head", {"data": "mnist", "kind": b, "epochs": epochs, "steps": 400, "views": 4, "tau": 0.2},
                  lambda: train_ssl_head(m, x_train, steps=400, views=4, tau=0.2))
    return m, load_ssl_head(hart)
def pgd(m, x, y, seed):
    return attacks.pgd_linf(m, x, y, eps=0.3, step=0.01, steps=40, restarts=1, seed=seed)
