"""The speed-up metrics refuse a budget that the curves cannot be read at, instead of an IndexError or a ratio."""
import numpy as np
import pytest

from llcore.metrics import speedup_at, speedup_seconds, speedup_steps

B = 0.5 ** (np.arange(21) / 2)          # 21 points: steps 0..20
L = 0.5 ** np.arange(21.0)
SECS = np.arange(21) * 1.0


@pytest.mark.parametrize("budget", [0, -1, 21, 50])
def test_every_speedup_refuses_a_budget_outside_the_curves(budget):
    calls = {"speedup_steps": lambda: speedup_steps(B, L, budget),
             "speedup_seconds": lambda: speedup_seconds(B, L, SECS, SECS, budget),
             "speedup_at": lambda: speedup_at(B, L, [1], budget)}
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"budget={budget}\b.*21") as err:
            call()
        assert name in str(err.value)


def test_speedup_seconds_refuses_a_budget_past_the_seconds():
    with pytest.raises(ValueError, match="seconds of 11"):
        speedup_seconds(B, L, SECS[:11], SECS[:11], 20)


@pytest.mark.parametrize("n", [0, -2, 21, 2.5])
def test_speedup_at_refuses_a_step_outside_1_to_budget(n):
    with pytest.raises(ValueError, match=r"1 <= N <= budget = 20"):
        speedup_at(B, L, [5, n], 20)


def test_the_last_readable_budget_still_works():
    assert speedup_steps(B, L, 20) == (pytest.approx(2.0), True)
    assert speedup_at(B, L, [1, 10], 20) == ({"1": 2.0, "10": 2.0}, False)
    assert speedup_at(B, L, np.array([10]), np.int64(20))[0] == {"10": 2.0}


def test_speedup_at_reads_a_shorter_landscape_curve_up_to_its_end():
    # notebooks/studies/faces_settings.py compares a 50-step landscape run against a 100-step baseline budget
    short = L[:11]                                                           # steps 0..10
    assert speedup_at(B, short, [5, 10], 20)[0] == {"5": 2.0, "10": 2.0}
    with pytest.raises(ValueError, match=r"\[11\] are past the end of the landscape curve, which has 11 points"):
        speedup_at(B, short, [5, 11], 20)
