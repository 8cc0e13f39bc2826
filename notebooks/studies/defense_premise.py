"""02 study, part 1: does the SSL loss rise on attacked validation digits (bank vs in-batch negatives), and how much
does random noise alone restore? Writes the attacked validation images for part 2."""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from defense_common import *
m, head = backbone("standard")
t=time.time()
xa = pgd(m, x_val, y_val, 2); xf = pgd(m, x_train[:200], y_train[:200], 3)
torch.save({"val": xa, "fit200": xf}, f"{STUDY}/adv_std.pt")
print("attack s", time.time()-t)
acc = lambda x, y: float(accuracy(m, x, y).mean())
print("clean val", acc(x_val, y_val), "adv val", acc(xa, y_val))
g = torch.Generator().manual_seed(0)
for e in (0.1, 0.2, 0.3):
    accs = [acc((xa + e*torch.sign(torch.randn(xa.shape, generator=g))).clamp(0,1), y_val) for _ in range(5)]
    accc = [acc((x_val + e*torch.sign(torch.randn(xa.shape, generator=g))).clamp(0,1), y_val) for _ in range(5)]
    print(f"sign noise {e}: adv {np.mean(accs):.3f} clean {np.mean(accc):.3f}")
    accs = [acc((xa + e*torch.randn(xa.shape, generator=g)).clamp(0,1), y_val) for _ in range(5)]
    print(f"gauss noise {e}: adv {np.mean(accs):.3f}")
# premise variants
for noise in (0.05, 0.2):
  for bank in (256, 0):
    # bank 0: in-batch negatives (as run, computed here as multiview_nce(embed(x)); the same as negatives="batch")
    loss = SSLLoss(m, head, Augment(views=4, seed=0, noise=noise), tau=0.2, negatives="bank" if bank else "batch")
    loss.set_bank(x_train[:256])
    noisy = (x_val + 0.3*torch.sign(torch.randn(x_val.shape, generator=g))).clamp(0,1)
    L = lambda x: float(loss(x).mean())
    with torch.no_grad():
        print(f"aug noise {noise} bank {bank}: clean {L(x_val):.3f} adv {L(xa):.3f} signnoise {L(noisy):.3f}")
