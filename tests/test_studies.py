"""llcore.repro.studies: a committed study's numbers reach the notebook table unchanged, whatever the study measured."""
import json

from llcore.repro.studies import rounds_table, study_path


def write(root, experiment, study):
    path = study_path(experiment, "theta_rounds", root)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(study))


def test_rounds_table_reads_speedups_or_accuracies_and_ends_with_the_baseline(tmp_path):
    assert rounds_table("gan_inversion", tmp_path) is None                       # no study: no table
    write(tmp_path, "gan_inversion", {
        "curve": "metric (mse)", "baseline": {"lr": 0.1, "metric_at": {"10": 0.05, "200": 0.004}},
        "rounds": {"100": {"train_seconds": 190.4, "lr": 0.1, "speedup_at": {"5": 7.4, "10": 5.0, "20": 3.3},
                           "metric_at": {"10": 0.012, "200": 0.0034}}}})
    t = rounds_table("gan_inversion", tmp_path)
    assert list(t["rounds"]) == [100, "baseline"] and t["speed-up at 10"][0] == 5.0
    assert t["metric (mse) at 10"].tolist() == [0.012, 0.05] and t["θ training (s, 1 thread)"][0] == 190
    acc = {"lr": 0.03, "val_acc_step1": 0.28, "val_acc_step10": 0.4, "val_acc_mean_1_to_budget": 0.41}
    write(tmp_path, "adversarial_defense", {"baseline": {**acc, "lr": 0.3, "val_acc_step1": 0.15},
                                            "rounds": {"100": {"train_seconds": 122.0, **acc}}})
    t = rounds_table("adversarial_defense", tmp_path)
    assert t["robust acc. at 1"].tolist() == [0.28, 0.15] and t["lr"].tolist() == [0.03, 0.3]
