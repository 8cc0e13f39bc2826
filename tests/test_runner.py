"""The notebook runner and the results index, on tiny notebooks made in a temporary repo."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from llcore.repro import ledger, runner
from llcore.repro.documents import write_results_index

# helpers

PARAMS = "a = 1\nb = 'x'\nprofile = 'default'"


def make_notebook(path: Path, params: str = PARAMS, body: tuple[str, ...] = ()) -> Path:
    """A notebook with a cell tagged `parameters` followed by `body`, on the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in body]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_params(repo: Path, profile: str, stem: str, text: str) -> None:
    path = repo / "notebooks" / "params" / profile / f"{stem}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path):
    """A repo with two notebooks, 00_toy and 01_gan, that run nothing beyond their parameters."""
    make_notebook(tmp_path / "notebooks" / "00_toy.ipynb")
    make_notebook(tmp_path / "notebooks" / "01_gan.ipynb", params="generator = 'dcgan'\nprofile = 'default'")
    return tmp_path


def injected_parameters(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))


# parameters


@pytest.mark.parametrize("text, value", [("3", 3), ("0.1", 0.1), ("[0, 1]", [0, 1]), ("true", True),
                                         ("dcgan", "dcgan"), ("'3'", "3")])
def test_cli_values_are_read_as_yaml(text, value):
    parsed = runner.parse_cli_params([["k", text]])["k"]
    assert parsed == value and type(parsed) is type(value)


def test_unknown_cli_parameter_is_refused_before_running_anything(repo, capsys):
    assert runner.main(["--only", "00", "-p", "foo", "1"], repo_root=repo) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'foo' for notebook 00_toy (from -p); known parameters: a, b, profile" in err
    assert not (repo / "runs").exists() and not (repo / "results").exists()


def test_unknown_yaml_parameter_names_the_file_and_run(repo, capsys):
    write_params(repo, "smoke", "01_gan", "runs:\n  - {run_name: dc, generator: dcgan}\n  - {run_name: big, gen: x}\n")
    assert runner.main(["--profile", "smoke"], repo_root=repo) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'gen' for notebook 01_gan" in err and "01_gan.yaml, run 'big'" in err
    assert "known parameters: generator, profile" in err


def test_profile_is_set_only_by_the_profile_flag(repo, capsys):
    assert runner.main(["-p", "profile", "paper"], repo_root=repo) == 2
    assert "set by --profile" in capsys.readouterr().err


def test_multi_run_yaml_gives_one_named_output_per_run(repo):
    write_params(repo, "smoke", "01_gan", "runs:\n  - {run_name: dc, generator: dcgan}\n"
                                          "  - {run_name: big, generator: biggan}\n")
    notebooks = runner.select(runner.discover(repo / "notebooks"), "01")
    runs = runner.plan_runs(notebooks, repo / "notebooks" / "params", "smoke", {})
    assert [r.output_path(repo / "runs").name for r in runs] == ["01_gan__dc.ipynb", "01_gan__big.ipynb"]
    assert [r.parameters for r in runs] == [{"generator": "dcgan", "profile": "smoke"},
                                            {"generator": "biggan", "profile": "smoke"}]


def test_run_picks_one_named_run_and_an_unknown_name_lists_them(repo, capsys):
    write_params(repo, "smoke", "01_gan", "runs:\n  - {run_name: dc, generator: dcgan}\n"
                                          "  - {run_name: big, generator: biggan}\n")
    out = repo / "runs" / "smoke"
    assert runner.main(["--profile", "smoke", "--prepare-only", "--only", "01", "--run", "big"], repo_root=repo) == 0
    assert [p.name for p in out.glob("*.ipynb")] == ["01_gan__big.ipynb"]
    assert runner.main(["--profile", "smoke", "--only", "01", "--run", "style"], repo_root=repo) == 2
    assert "--run 'style' matches no run; planned runs: 01_gan (big), 01_gan (dc)" in capsys.readouterr().err


def test_cli_overrides_every_run_and_prepare_only_writes_injected_notebooks(repo):
    write_params(repo, "smoke", "01_gan", "runs:\n  - {run_name: dc, generator: dcgan}\n"
                                          "  - {run_name: big, generator: biggan}\n")
    out = repo / "runs" / "smoke"
    assert runner.main(["--profile", "smoke", "--prepare-only", "--only", "01", "-p", "generator", "style"],
                       repo_root=repo) == 0
    for run_name in ("dc", "big"):
        assert "generator = \"style\"" in injected_parameters(out / f"01_gan__{run_name}.ipynb")
    assert runner.main(["--profile", "smoke", "--prepare-only"], repo_root=repo) == 0
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["00_toy.ipynb", "01_gan__big.ipynb", "01_gan__dc.ipynb"]
    assert "profile = \"smoke\"" in injected_parameters(out / "00_toy.ipynb")
    assert not (repo / "results").exists(), "--prepare-only writes no table"


def test_shared_keys_apply_to_every_run(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("a: 2\nruns:\n  - {run_name: one}\n  - {run_name: two, a: 3}\n")
    assert runner.load_param_sets(path) == [("one", {"a": 2}), ("two", {"a": 3})]
    assert runner.load_param_sets(tmp_path / "missing.yaml") == [(None, {})]


@pytest.mark.parametrize("text", ["runs:\n  - {a: 1}\n", "runs:\n  - {run_name: x}\n  - {run_name: x}\n",
                                  "runs: 3\n", "- 1\n", "a: [\n"])
def test_malformed_params_files_are_usage_errors(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(runner.UsageError, match="p.yaml"):
        runner.load_param_sets(path)


# notebook selection


def test_only_matches_stem_or_prefix(repo):
    notebooks = runner.discover(repo / "notebooks")
    assert [p.stem for p in notebooks] == ["00_toy", "01_gan"]
    assert [p.stem for p in runner.select(notebooks, "00")] == ["00_toy"]
    assert [p.stem for p in runner.select(notebooks, "01_gan")] == ["01_gan"]
    assert runner.select(notebooks, None) == notebooks


def test_only_without_match_lists_the_notebooks(repo, capsys):
    assert runner.main(["--only", "07"], repo_root=repo) == 2
    assert "--only '07' matches no notebook; available: 00_toy, 01_gan" in capsys.readouterr().err
    with pytest.raises(runner.UsageError, match="ambiguous"):
        runner.select(runner.discover(repo / "notebooks"), "0")


# execution (each starts a kernel: a few seconds)


def test_end_to_end_run_writes_outputs_table_and_index(tmp_path, capsys):
    body = ("from pathlib import Path\nPath('ran.txt').write_text(f'{a} {profile}')",)
    make_notebook(tmp_path / "notebooks" / "00_toy.ipynb", body=body)
    assert runner.main(["--profile", "smoke", "-p", "a", "5"], repo_root=tmp_path) == 0
    assert (tmp_path / "notebooks" / "ran.txt").read_text() == "5 smoke", "runs in notebooks/ with parameters"
    assert (tmp_path / "runs" / "smoke" / "00_toy.ipynb").exists()
    table = (tmp_path / "results" / "smoke" / "run_times.md").read_text()
    assert "profile `smoke`" in table and re.search(r"\| 00_toy +\| – +\| ok ", table)
    assert (tmp_path / "results" / "README.md").exists()
    assert "00_toy: ok in" in capsys.readouterr().out


def test_failed_runs_are_recorded_with_their_cell_the_rest_run_and_exit_is_1(tmp_path, capsys):
    make_notebook(tmp_path / "notebooks" / "00_fail.ipynb", body=("x = 1", "assert a == 2, 'a must be 2'"))
    make_notebook(tmp_path / "notebooks" / "01_dies.ipynb", body=("import os\nos._exit(1)", "x = 1"))
    make_notebook(tmp_path / "notebooks" / "02_ok.ipynb")
    assert runner.main(["--profile", "smoke"], repo_root=tmp_path) == 1
    err = capsys.readouterr().err
    assert "FAILED: 00_fail at In [4] (cell 3): AssertionError: a must be 2" in err
    assert "open runs/smoke/00_fail.ipynb" in err
    # whether the dying cell got its execution count depends on a race with the kernel's death
    assert re.search(r"FAILED: 01_dies at (In \[\d\] \()?cell 2\)?: DeadKernelError", err), "blames its cell"
    table = (tmp_path / "results" / "smoke" / "run_times.md").read_text()
    assert "| FAILED" in table and "In [4] (cell 3)" in table
    assert re.search(r"\| 02_ok +\| – +\| ok ", table), "the runs after a failure still run"


def test_run_times_keep_the_latest_row_of_every_notebook_across_invocations(tmp_path, capsys):
    def ran(stem, seconds, run_name=None, status="ok"):
        run = runner.Run(tmp_path / "notebooks" / f"{stem}.ipynb", run_name, {})
        return runner.RunResult(run, tmp_path / "runs" / f"{stem}.ipynb", status, seconds)
    runner.merge_ledger([ran("00_toy", 10.0), ran("01_gan", 20.0, "mnist")], "default", tmp_path)
    runner.merge_ledger([ran("01_gan", 30.0, "mnist"), ran("01_gan", 40.0, "faces")], "default", tmp_path)  # --only 01
    rows = json.loads((tmp_path / "results" / "default" / "run_times.json").read_text())["rows"]
    assert [(r["notebook"], r["run"], r["seconds"]) for r in rows] == [
        ("00_toy", "–", 10.0), ("01_gan", "faces", 40.0), ("01_gan", "mnist", 30.0)]
    assert "Sum of the ok rows: 80.0 s over 3 row(s)" in (tmp_path / "results" / "default" / "run_times.md").read_text()
    # an unreadable ledger is set aside, not fatal, and nothing in it is overwritten
    (tmp_path / "results" / "default" / "run_times.json").write_text("{not json")
    runner.merge_ledger([ran("02_adv", 5.0)], "default", tmp_path)
    assert (tmp_path / "results" / "default" / "run_times.json.corrupt").read_text() == "{not json"
    assert "unreadable" in capsys.readouterr().err


def test_a_complete_run_heads_the_run_times_and_survives_later_single_runs(tmp_path):
    def ran(stem, seconds):
        run = runner.Run(tmp_path / "notebooks" / f"{stem}.ipynb", None, {})
        return runner.RunResult(run, tmp_path / "runs" / f"{stem}.ipynb", "ok", seconds)
    md = tmp_path / "results" / "default" / "run_times.md"
    runner.merge_ledger([ran("00_toy", 10.0)], "default", tmp_path)
    assert "No complete run recorded yet" in md.read_text()
    rec = runner.record_full_run("smoke", tmp_path, started=1000.0, notebooks_done=1000.0 + 7000.0, jobs=2,
                                 finished=1000.0 + 7300.0)
    assert "`./run_all.sh --profile smoke --jobs 2`" in ledger.full_run_line(rec)      # the record names its profile
    rec = runner.record_full_run("default", tmp_path, started=1000.0, notebooks_done=1000.0 + 7000.0, jobs=2,
                                 finished=1000.0 + 7300.0, cached_at_start=0)
    assert "from scratch (an empty artifact cache)" in md.read_text()
    assert "3 cached artifact(s) at the start" in ledger.full_run_line({**rec, "cached_at_start": 3})
    assert rec["seconds"] == 7300.0 and rec["notebooks_seconds"] == 7000.0 and rec["bench_seconds"] == 300.0
    assert "1 thread(s) per notebook" in rec["machine"] and "cores" in rec["machine"]
    assert "**121.7 min** wall clock (116.7 min notebooks, 5.0 min benchmark)" in md.read_text()
    runner.merge_ledger([ran("02_adv", 5.0)], "default", tmp_path)            # a later --only run keeps the record
    assert "**121.7 min**" in md.read_text() and "| 02_adv" in md.read_text()
    assert ledger.last_full_run(tmp_path / "results" / "default" / "run_times.json")["jobs"] == 2


# results index


def fake_metrics(**extra) -> dict:
    split = {
        "metric": "mse", "higher_is_better": False, "budget_steps": 200,
        "curves": {"baseline": {"10": 0.5, "200": 0.125}, "landscape": {"10": 0.25, "200": 0.0625}},
        "spread": {"baseline": {"200": 0.01}},
        "speedup_steps": 3.5, "speedup_seconds": 2.25, "speedup_at": {"10": 20.0}, "speedup_at_capped": True,
    }
    prov = {"git_sha": "abc1234", "device": "cpu", "started": "2025-01-01T00:00:00Z", "wall_seconds": 12.5}
    return {"experiment": "toy", "seeds": [0, 1], "splits": {"test_in": split}, "provenance": prov, **extra}


def test_results_index_shows_headline_numbers_links_and_bad_files(tmp_path):
    toy = tmp_path / "default" / "toy"
    (toy / "tables").mkdir(parents=True)
    (toy / "figures").mkdir()
    (toy / "metrics.json").write_text(json.dumps(fake_metrics()))
    (toy / "tables" / "speedup.md").write_text("| a |\n")
    (toy / "figures" / "curves.png").write_bytes(b"")
    ablations = tmp_path / "default" / "ablations"
    ablations.mkdir()
    variants = {"full": {"speedup_steps": 4.0, "final": 0.1, "note": "x"}, "no_buffer": {"final": 0.3}}
    (ablations / "metrics.json").write_text(json.dumps(fake_metrics(variants=variants, extra_field=1)))
    (tmp_path / "default" / "run_times.md").write_text("x")
    (tmp_path / "paper" / "gan_inversion").mkdir(parents=True)
    (tmp_path / "paper" / "gan_inversion" / "metrics.json").write_text("{not json")
    (tmp_path / "smoke" / "smoke_only").mkdir(parents=True)
    (tmp_path / "smoke" / "smoke_only" / "metrics.json").write_text(json.dumps(fake_metrics()))

    text = write_results_index(tmp_path).read_text()
    assert "do not edit by hand" in text.splitlines()[0]
    assert "0.125 ± 0.01" in text and "0.0625" in text and "≥ 20" in text and "| 3.5 " in text and "2.25" in text
    assert "git `abc1234`, device `cpu`" in text and "seeds 0, 1" in text
    assert "[speedup](default/toy/tables/speedup.md)" in text and "![curves](default/toy/figures/curves.png)" in text
    assert "[Notebook run times](default/run_times.md)" in text
    assert "| variant   | speedup_steps | final |" in text and "| no_buffer | –             | 0.3   |" in text
    assert text.index("### toy") < text.index("### ablations"), "experiments in the order of RESULTS.md"
    assert "`paper/gan_inversion/metrics.json`: JSONDecodeError" in text
    assert "smoke_only" not in text


def test_results_index_without_results(tmp_path):
    assert "No results yet" in write_results_index(tmp_path / "results").read_text()


def test_a_default_run_keeps_its_executed_notebook_beside_its_results(tmp_path):
    from llcore.repro.runner import RunResult, keep_executed
    out = tmp_path / "runs" / "01_gan_inversion__faces.ipynb"
    out.parent.mkdir()
    out.write_text('{"cells": []}')
    run = runner.Run(tmp_path / "01_gan_inversion.ipynb", "faces", {})
    kept = keep_executed(RunResult(run, out, "ok", 1.0), tmp_path / "results" / "default" / "notebooks")
    assert kept.read_text() == '{"cells": []}' and kept.name == "01_gan_inversion__faces.ipynb"
    assert keep_executed(RunResult(run, out, "FAILED", 1.0), tmp_path / "x") is None          # failures stay in runs/
    assert keep_executed(RunResult(run, out, "ok", 1.0), tmp_path / "y", limit=5) is None     # too large: not kept
    index = write_results_index  # the index links them
    (tmp_path / "results" / "default" / "toy").mkdir(parents=True)
    index(tmp_path / "results")
    assert "default/notebooks/01_gan_inversion__faces.ipynb" in (tmp_path / "results" / "README.md").read_text()


def test_run_times_say_where_the_time_goes(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"papermill": {"duration": 1.0}}},
                    {"cell_type": "markdown", "source": "## Train θ\ntext", "metadata": {}},
                    {"cell_type": "code", "source": "train()", "metadata": {"papermill": {"duration": 30.0}}},
                    {"cell_type": "code", "source": "more()", "metadata": {"papermill": {"duration": 2.5}}},
                    {"cell_type": "markdown", "source": "## Evaluate", "metadata": {}},
                    {"cell_type": "code", "source": "ev()", "metadata": {"papermill": {"duration": None}}}]}
    out = tmp_path / "00_toy.ipynb"
    out.write_text(json.dumps(nb))
    assert runner.section_seconds(out) == [["setup", 1.0], ["Train θ", 32.5]]
    assert runner.section_seconds(tmp_path / "missing.ipynb") == []
    result = runner.RunResult(runner.Run(tmp_path / "00_toy.ipynb", None, {}), out, "ok", 34.0)
    (tmp_path / "results" / "default").mkdir(parents=True)
    runner.merge_ledger([result], "default", tmp_path)
    md = (tmp_path / "results" / "default" / "run_times.md").read_text()
    assert "Train θ 32 s" in md and "cores" in md


def test_jobs_run_notebooks_at_once_but_after_what_they_reuse(tmp_path):
    import threading
    import time as _time
    stems = {"00_toy": [], "01_gan_inversion": [], "05_landscape": ["00_toy", "01_gan_inversion"]}
    for stem, deps in stems.items():
        (tmp_path / f"{stem}.ipynb").write_text(json.dumps({"cells": [], "metadata": {"llcore": {"after": deps}}}))
    runs = [runner.Run(tmp_path / f"{stem}.ipynb", None, {}) for stem in stems]
    log, lock, live = [], threading.Lock(), []

    def fake(run, runs_dir, cwd):
        with lock:
            live.append(run.notebook.stem)
            log.append(("start", run.notebook.stem, len(live)))
        _time.sleep(0.2)
        with lock:
            live.remove(run.notebook.stem)
            log.append(("end", run.notebook.stem))
        return runner.RunResult(run, tmp_path / "out.ipynb", "ok", 0.2)

    results = runner.execute_all(runs, tmp_path, tmp_path, tmp_path, jobs=2, execute=fake)
    assert [r.run.notebook.stem for r in results] == list(stems)                        # the runs' order
    assert max(entry[2] for entry in log if entry[0] == "start") == 2                  # two at once
    start_05 = log.index(("start", "05_landscape", 1))
    assert log.index(("end", "00_toy")) < start_05 and log.index(("end", "01_gan_inversion")) < start_05
    assert runner.after(runs[2].notebook) == ["00_toy", "01_gan_inversion"]


def test_the_default_profile_pins_threads(monkeypatch):
    import os
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MKL_DYNAMIC"):     # restored after the test
        monkeypatch.setenv(k, "unset")
    assert "1 thread" in runner.pin_threads("default") and os.environ["OMP_NUM_THREADS"] == "1"
    assert "default" in runner.pin_threads("smoke")


def test_default_jobs_are_one_per_core_only_where_each_notebook_is_pinned_to_one_thread(monkeypatch):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 4)
    assert runner.default_jobs("default") == 4
    assert runner.default_jobs("smoke") == 1 and runner.default_jobs("paper") == 1    # torch's threads: all cores


def test_jobs_start_the_longest_expected_run_first(tmp_path):
    stems = ["00_toy", "03_human_pose", "04_ablations"]
    for stem in stems:
        (tmp_path / f"{stem}.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    runs = [runner.Run(tmp_path / f"{stem}.ipynb", None, {}) for stem in stems]
    started = []

    def fake(run, runs_dir, cwd):
        started.append(run.notebook.stem)
        return runner.RunResult(run, tmp_path / "out.ipynb", "ok", 0.0)

    expected = {("04_ablations", "–"): 7000.0, ("03_human_pose", "–"): 2500.0}     # 00: no record
    results = runner.execute_all(runs, tmp_path, tmp_path, tmp_path, jobs=1, execute=fake, expected=expected)
    assert started == ["04_ablations", "03_human_pose", "00_toy"]
    assert [r.run.notebook.stem for r in results] == stems                              # reported in plan order
    (tmp_path / "results" / "default").mkdir(parents=True)
    (tmp_path / "results" / "default" / "run_times.json").write_text(json.dumps(
        {"rows": [{"notebook": "04_ablations", "run": "–", "status": "ok", "seconds": 7000.0},
                  {"notebook": "03_human_pose", "run": "–", "status": "FAILED", "seconds": 1.0}]}))
    assert runner.expected_seconds("default", tmp_path) == {("04_ablations", "–"): 7000.0}


def test_a_run_is_recorded_as_it_ends_so_an_interrupted_invocation_keeps_it(tmp_path):
    stems = ["00_toy", "02_adv"]
    for stem in stems:
        (tmp_path / f"{stem}.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    (tmp_path / "results" / "default").mkdir(parents=True)
    runs = [runner.Run(tmp_path / f"{stem}.ipynb", None, {}) for stem in stems]

    def fake(run, runs_dir, cwd):
        if run.notebook.stem == "02_adv":
            raise KeyboardInterrupt                              # the user stops the invocation during the second run
        out = tmp_path / f"{run.notebook.stem}.out.ipynb"
        out.write_text(json.dumps({"cells": []}))
        return runner.RunResult(run, out, "ok", 12.0)

    with pytest.raises(KeyboardInterrupt):
        runner.execute_all(runs, tmp_path, tmp_path, tmp_path, jobs=1, execute=fake,
                           on_done=lambda r: runner.record(r, "default", tmp_path))
    rows = json.loads((tmp_path / "results" / "default" / "run_times.json").read_text())["rows"]
    assert [(r["notebook"], r["seconds"]) for r in rows] == [("00_toy", 12.0)]
    assert (tmp_path / "results" / "default" / "notebooks" / "00_toy.out.ipynb").is_file()


def test_runs_start_longest_first_counting_the_runs_that_wait_on_them():
    stems = ["04", "02", "01f", "01m", "03", "06", "00", "05"]
    runs = [runner.Run(Path(f"/x/{s}.ipynb"), None, {}) for s in stems]
    minutes = {"04": 82, "02": 62, "01f": 54, "01m": 37, "03": 26, "06": 8.5, "00": 1.7, "05": 30}
    expected = {(s, "–"): 60.0 * m for s, m in minutes.items()}
    needs = {i: set() for i in range(len(stems))}
    assert [stems[i] for i in runner.plan_order(runs, needs, expected)] == \
        ["04", "02", "01f", "01m", "05", "03", "06", "00"]                      # no dependencies: longest first
    needs[stems.index("05")] = {stems.index(s) for s in ("00", "03")}
    order = [stems[i] for i in runner.plan_order(runs, needs, expected)]
    assert order.index("03") < order.index("01m") and order.index("00") < order.index("06")   # 05 waits on them
    expected.pop(("04", "–"))                                                  # a run without a record: last
    assert [stems[i] for i in runner.plan_order(runs, needs, expected)][-1] == "04"


def test_run_all_reaches_the_runner_on_a_fresh_clone(tmp_path):
    """./run_all.sh's own steps before the runner (the environment, the count of cached artifacts) pass where no cache
    folder exists yet: the paper profile without its files then stops in the runner, before any notebook runs."""
    import os
    import subprocess
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "LLCORE_CACHE": str(tmp_path / "no_cache_yet"), "LLCORE_ASSETS": str(tmp_path / "assets")}
    done = subprocess.run(["bash", str(root / "run_all.sh"), "--profile", "paper", "--only", "02"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "no notebook was run" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "no_cache_yet").exists()
