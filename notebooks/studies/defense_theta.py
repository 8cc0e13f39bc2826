"""02 study, part 2: train one θ (seed 0) with the settings given as JSON and print robust / clean accuracy on the
attacked / clean validation images at reversal steps 0..5 (and the baseline at 0..40 with "baseline": 1).
    .venv/bin/python notebooks/studies/defense_theta.py NAME '{"inbatch": 1, "train": {"inner_lr": 0.03, "rounds": 150}}'
keys: zero (θ starts at r = 0), inbatch (batch negatives), adv_only (θ's targets attacked images only), aug_noise,
dim_z, width, depth, train (TrainConfig overrides), lrs."""
import sys, json; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from defense_common import *
from llcore import ResidualMLP, TrainConfig, Trainer
from llcore.mapping import _embed
from llcore.repro.experiment import Method, compare
from llcore.seeding import set_seed
name = sys.argv[1]; cfg = json.loads(sys.argv[2])
m, head = backbone("standard")
d = torch.load(f"{STUDY}/adv_std.pt")
xa_val = d["val"]
if os.path.exists(f"{STUDY}/fit1000.pt"):
    xfit = torch.load(f"{STUDY}/fit1000.pt")
else:
    xfit = pgd(m, x_train[:1000], y_train[:1000], 3); torch.save(xfit, f"{STUDY}/fit1000.pt")
loss = SSLLoss(m, head, Augment(views=4, seed=0, noise=cfg.get("aug_noise", 0.05)), tau=0.2,
               negatives="batch" if cfg.get("inbatch") else "bank"); loss.set_bank(x_train[:256])
if cfg.get("baseline"):
    for lr in (0.03, 0.1, 0.3):
        meth = Method("baseline", optimizer="sign", lr_grid=[lr])
        r = compare(reversal_problem(loss, 0.3, (1, 28, 28)), {"adv": lambda s: xa_val, "clean": lambda s: x_val}, [meth], {"baseline": lr}, 40, [0],
                    measures={"acc": lambda split, s, y, rec, mapping: accuracy_along(m, y, y_val, rec.trajectory, mapping).numpy()}, keep_trajectory=True)
        a = r.measures["acc"]["adv"]["baseline"][0]; c = r.measures["acc"]["clean"]["baseline"][0]
        ssl = r.curves["adv"]["baseline"][0]
        print(f"BASE lr {lr}: robust {np.round(a[[0,1,2,5,10,20,40]],3).tolist()} best {a[1:].max():.3f} clean {np.round(c[[0,1,2,5,10,20,40]],3).tolist()}"
              f" ssl(adv) {np.round(ssl[[0,1,2,5,10,20,40]],3).tolist()}", flush=True)
prob = reversal_problem(loss, 0.3, (1, 28, 28))
class ZeroStart(ResidualMLP):
    def unbounded(self, z):
        return _embed(z, self.dim_x) + self.g(z) - self.g(torch.zeros_like(z[:1]))
cls = ZeroStart if cfg.get("zero") else ResidualMLP
mk = lambda: cls(784, dim_z=cfg.get("dim_z", 128), width=cfg.get("width", 512), depth=cfg.get("depth", 2), bound=0.3)
set_seed(0); theta = mk()
targets = xfit if cfg.get("adv_only") else torch.cat([xfit, x_train[:1000]])
tc = dict(rounds=60, batch_size=64, inner_steps=5, inner_optimizer="sign", inner_lr=0.1, theta_steps=5, theta_batch=64,
          theta_lr=1e-3, buffer_rounds=20); tc.update(cfg.get("train", {}))
tr = Trainer(prob, theta, targets, TrainConfig(**tc, seed=0))
tr.train(); theta.eval()
print(name, "theta s", round(tr.seconds))
def acc_m(labels):
    return lambda split, s, y, rec, mapping: accuracy_along(m, y, labels, rec.trajectory, mapping).numpy()
for lr in cfg.get("lrs", [0.03, 0.1, 0.3]):
    meth = Method("landscape", mapping=lambda s: theta, optimizer="sign", lr_grid=[lr])
    r = compare(prob, {"adv": lambda s: xa_val, "clean": lambda s: x_val}, [meth], {"landscape": lr}, 5, [0],
                measures={"acc": acc_m(y_val)}, keep_trajectory=True)
    a = r.measures["acc"]["adv"]["landscape"][0]; c = r.measures["acc"]["clean"]["landscape"][0]
    ssl = r.curves["adv"]["landscape"][0]
    print(f"{name} lr {lr}: robust {np.round(a,2).tolist()} clean {np.round(c,2).tolist()} ssl(adv) {np.round(ssl,3).tolist()}",
          flush=True)
