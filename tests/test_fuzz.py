"""Property-based fuzzing of the real CLI (Hypothesis): system, workload, sweep and result files
and --set values, generated. Whatever the input, bench exits 0, 1 or 2; on 2 it prints exactly
one stderr line and no traceback; it writes nothing outside the output folder it was given; an
earlier result in that folder is never touched. (Several problems in one input are reported
together, one line each: every stderr line is then a `bench: error:` line.)

The default run is a few seconds (few examples, derandomized, virtual-time runs of 10 ms);
`pytest -m fuzz_long tests/test_fuzz.py` runs many more, randomized.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from harness.cli.main import main  # noqa: E402

QUICK = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------- values


def toml_string(text: str) -> str:
    return json.dumps(text)   # a JSON string is a valid TOML basic string


NUMBERS = st.one_of(
    st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 1e308, -1e308, 1e-300, 2**62, 1e-9, 0.5, 3600]))
ODD_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(
    ["../../x", "a/b", "x\ny", "<script>", "", ".hidden", "nan", "inf", "-1e400", "1e308", "[1]"]))


PLAUSIBLE = st.one_of(st.integers(1, 4096).map(str), st.floats(1e-6, 16.0).map(repr),
                      st.sampled_from(["1", "2", "8", "64", "0.0", "0.001", "1e9", "25.6e9", "4194304"]))


def toml_value(draw) -> str:
    """A TOML value: often plausible (so runs go deep), else hostile."""
    kind = draw(st.sampled_from(["plausible"] * 5 + ["number", "special", "text", "bool", "list"]))
    if kind == "plausible":
        return draw(PLAUSIBLE)
    if kind == "number":
        value = draw(NUMBERS)
        return repr(value) if isinstance(value, float) else str(value)
    if kind == "special":
        return draw(st.sampled_from(["nan", "inf", "-inf", "+inf", "-0.0"]))
    if kind == "text":
        return toml_string(draw(ODD_TEXT))
    if kind == "bool":
        return draw(st.sampled_from(["true", "false"]))
    return f"[{', '.join(str(draw(st.integers(-5, 10**6))) for _ in range(draw(st.integers(0, 3))))}]"


# ---------------------------------------------------------------- files

SERVICE = {"distribution": '"deterministic"', "mean_s": "0.001", "servers": "1"}
BATCHING = {"max_batch": "1", "timeout_s": "0.0", "per_sample_s": "0.0"}


@st.composite
def system_file(draw) -> str:
    """A synthetic system with some keys replaced by odd values, and perhaps an unknown key."""
    service, batching = dict(SERVICE), dict(BATCHING)
    for table in (service, batching):
        for key in draw(st.lists(st.sampled_from(sorted(table)), max_size=2, unique=True)):
            table[key] = toml_value(draw)
    if draw(st.booleans()):
        service[draw(st.sampled_from(["cv", "samples_file", "bogus"]))] = toml_value(draw)
    lines = [f"name = {toml_string(draw(ODD_TEXT))}", 'adapter = "synthetic"', "[service]"]
    lines += [f"{k} = {v}" for k, v in service.items()] + ["[batching]"]
    return "\n".join(lines + [f"{k} = {v}" for k, v in batching.items()]) + "\n"


ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w.]*\s*=\s*)(.+)$")


@st.composite
def mutated(draw, shipped: str) -> str:
    """A shipped file (e.g. systems/npu_v1.toml) with one or two values replaced."""
    lines = (ROOT / shipped).read_text().splitlines()
    spots = [i for i, line in enumerate(lines) if ASSIGNMENT.match(line) and not line.rstrip().endswith(("[", "{"))]
    for i in draw(st.lists(st.sampled_from(spots), min_size=1, max_size=2, unique=True)):
        lines[i] = ASSIGNMENT.match(lines[i]).group(1) + toml_value(draw)
    return "\n".join(lines) + "\n"


LAYER = {"op": '"conv"', "name": '"c"', "filters": "4", "kernel": "3", "stride": "1"}


@st.composite
def workload_file(draw) -> str:
    layers = []
    for _ in range(draw(st.integers(0, 3))):
        layer = dict(LAYER)
        for key in draw(st.lists(st.sampled_from(["op", "filters", "kernel", "stride", "repeat",
                                                  "features", "name", "skip"]), max_size=2, unique=True)):
            layer[key] = toml_value(draw)
        layers.append("{ " + ", ".join(f"{k} = {v}" for k, v in layer.items()) + " }")
    shape = draw(st.sampled_from(["[3, 8, 8]", "[0, 8, 8]", "[3, 100000000, 100000000]", "[]"]))
    if draw(st.booleans()):
        shape = toml_value(draw)
    return (f'name = {toml_string(draw(ODD_TEXT))}\nbenchmark = "tiny"\ninput = {shape}\n'
            f"layers = [\n  {(','+chr(10)+'  ').join(layers)}\n]\n")


@st.composite
def sweep_file(draw) -> str:
    axes = {"compute.array_rows": "[8, 16]", "memory.sram_bytes": "[1048576]"}
    for key in draw(st.lists(st.sampled_from(sorted(axes) + ["bogus", "masters.x.period_s", "seed"]),
                             max_size=2, unique=True)):
        axes[key] = draw(st.one_of(st.just(f"[{toml_value(draw)}]"), st.just(toml_value(draw))))
    mode = draw(st.sampled_from(['"profile"', '"run"', toml_value(draw)]))
    grid = "\n".join(f"{k} = {v}" for k, v in axes.items())
    return (f'[sweep]\nname = {toml_string(draw(ODD_TEXT))}\nmode = {mode}\nduration_s = 0.01\n'
            f'[fixed]\nsystem = "npu_v1"\nworkload = "tiny"\nscenario = "offline"\n[grid]\n{grid}\n')


SET_KEYS = ["min_duration_ms", "max_duration_ms", "min_query_count", "max_query_count",
            "offline_expected_qps", "server_target_qps", "performance_sample_count_override",
            "multi_stream_samples_per_query", "run_grace_ms", "schedule_rng_seed",
            "service.mean_s", "service.servers", "batching.max_batch", "batching.timeout_s",
            "workload.name", "nonsense", "sut.service.cv", "", "compute.array_rows",
            "compute.clock_hz", "memory.sram_bytes", "memory.dram_bytes_per_s", "masters.camera.period_s",
            "masters.camera.bytes_per_s", "energy.static_w", "compute.dataflow", "compute.precision"]


@st.composite
def set_values(draw) -> list[str]:
    sets = []
    for key in draw(st.lists(st.sampled_from(SET_KEYS), max_size=2, unique=True)):
        value = toml_value(draw) if draw(st.integers(0, 3)) else draw(ODD_TEXT)
        sets += ["--set", f"{key}={value}"]
    return sets


# ---------------------------------------------------------------- the sandbox and the CLI


def bench(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` -> sha256 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Sandbox:
    """A working folder holding an earlier result (`prev/`) and an output folder (`out/`)."""

    def __init__(self, root: Path):
        self.root = root
        self.prev = root / "prev"
        self.prev_files = snapshot(self.prev)

    def reset(self) -> None:
        for entry in self.root.iterdir():
            if entry.name != "prev":
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def check(self, argv: list[str], out: Path | None, inputs: set[str]) -> tuple[int, str, str]:
        before = set(snapshot(self.root)) | inputs
        code, printed, err = bench(*argv)
        hypothesis.event(f"{argv[0]} exit {code}")
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        if code == 2:   # one line per problem (all of a file's problems are reported together)
            lines = err.splitlines()
            assert lines and all(line.startswith("bench: error: ") for line in lines), (argv, err)
        outside = [name for name in set(snapshot(self.root)) - before
                   if out is None or not (self.root / name).resolve().is_relative_to(out.resolve())]
        assert not outside, (argv, outside)
        assert snapshot(self.prev) == self.prev_files, (argv, "the earlier result changed")
        return code, printed, err


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    code, _, err = bench("run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny",
                         "--duration", "0.01", "--no-report", "--out", str(root / "prev"))
    assert code == 0, err
    here = os.getcwd()
    os.chdir(root)   # default output folders (reports/...) land in the sandbox too
    yield Sandbox(root)
    os.chdir(here)


RUN = ["--duration", "0.01", "--no-report"]


def fuzz_run(sandbox: Sandbox, data) -> None:
    sandbox.reset()
    system = data.draw(st.sampled_from([None, system_file(), mutated("systems/npu_v1.toml"),
                                        mutated("systems/npu_v2.toml")]))
    system = sandbox.write("sys.toml", data.draw(system)) if system is not None else None
    workload = data.draw(st.sampled_from([None, workload_file(), mutated("workloads/tiny.toml")]))
    workload = sandbox.write("wl.toml", data.draw(workload)) if workload is not None else None
    scenario = data.draw(st.sampled_from(["offline", "server", "single-stream", "multi-stream", "Offline"]))
    out = data.draw(st.sampled_from([sandbox.root / "out", sandbox.prev, None]))
    argv = ["run", "--scenario", scenario, "--sut", str(system or "npu_v1"),
            "--workload", str(workload or "tiny"), *RUN, *data.draw(set_values())]
    argv += ["--out", str(out)] if out else []
    if data.draw(st.booleans()):
        argv += ["--target-qps", str(data.draw(NUMBERS))]
    where = out if out and out != sandbox.prev else sandbox.root / "reports"
    sandbox.check(argv, where, {"sys.toml", "wl.toml"})


def fuzz_profile_and_sweep(sandbox: Sandbox, data) -> None:
    sandbox.reset()
    workload = sandbox.write("wl.toml", data.draw(workload_file()))
    sandbox.check(["profile", "--sut", "npu_v1", "--workload", str(workload), "--format", "json",
                   *data.draw(set_values())], None, {"wl.toml"})
    sweep = sandbox.write("sweep.toml", data.draw(sweep_file()))
    sandbox.check(["sweep", str(sweep), "--workers", "1", "--quiet", "--out", str(sandbox.root / "out")],
                  sandbox.root / "out", {"wl.toml", "sweep.toml"})


RESULT_KEYS = ["valid", "metric", "metric.value", "latency_s", "latency_s.p99", "query_count",
               "samples_per_second", "duration_s", "scenario", "settings", "schema", "sut", "energy"]


def mutate(result: dict, key: str, value) -> None:
    head, _, rest = key.partition(".")
    if rest and isinstance(result.get(head), dict):
        result[head][rest] = value
    else:
        result[head] = value


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), ODD_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ODD_TEXT, inner, max_size=3)),
    max_leaves=6)


def mutate_queries(path: Path, data) -> None:
    """One column of queries.parquet replaced by generated values (or dropped)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    name = data.draw(st.sampled_from(table.column_names))
    if data.draw(st.integers(0, 4)) == 0:
        pq.write_table(table.drop([name]), path)
        return
    values = data.draw(st.lists(st.floats() | st.none(), min_size=table.num_rows, max_size=table.num_rows))
    column = pa.array(values, type=pa.float64())
    pq.write_table(table.set_column(table.column_names.index(name), name, column), path)


def fuzz_readers(sandbox: Sandbox, data) -> None:
    """A copy of the earlier result with result.json fields replaced, read by every reader."""
    sandbox.reset()
    copy = sandbox.root / "copy"
    shutil.copytree(sandbox.prev, copy)
    result = json.loads((copy / "result.json").read_text())
    for key in data.draw(st.lists(st.sampled_from(RESULT_KEYS), min_size=1, max_size=2, unique=True)):
        mutate(result, key, data.draw(JSON_VALUES))
    (copy / "result.json").write_text(json.dumps(result))   # NaN/Infinity as Python writes them
    if data.draw(st.booleans()):
        mutate_queries(copy / "queries.parquet", data)
    inputs = set(snapshot(sandbox.root))
    report = sandbox.root / "rep.html"
    sandbox.check(["report", str(copy), "--out", str(report)], report, inputs)
    code, printed, _ = sandbox.check(["compare", str(copy), str(sandbox.prev), "--format", "json"], None, inputs)
    if code == 0:
        json.loads(printed, parse_constant=lambda c: pytest.fail(f"compare printed {c}"))
    gate = sandbox.root / "gate.json"
    sandbox.check(["gate", "--baseline", str(sandbox.prev), "--candidate", str(copy), "--json", str(gate)],
                  gate, inputs)
    sandbox.check(["check", str(copy)], None, inputs)


SUMMARY_LINES = ["Samples per second", "Completed samples per second", "90.0th percentile latency (ns)",
                 "Min latency (ns)", "Max latency (ns)", "Mean latency (ns)", "99.00 percentile latency (ns)",
                 "min_duration (ms)", "target_qps", "samples_per_query", "performance_sample_count"]


def fuzz_mlperf_logs(sandbox: Sandbox, data) -> None:
    """An MLPerf submission run whose summary and detail lines carry generated values."""
    sandbox.reset()
    scenario = data.draw(st.sampled_from(["Offline", "Server", "SingleStream", "MultiStream"]))
    run = sandbox.root / "sub" / "closed" / "Org" / "results" / "sys" / "resnet" / scenario / "performance" / "run_1"
    run.mkdir(parents=True)
    fields = {"Scenario": scenario, "Result is": data.draw(st.sampled_from(["VALID", "INVALID", "maybe"]))}
    for key in data.draw(st.lists(st.sampled_from(SUMMARY_LINES), min_size=1, max_size=4, unique=True)):
        fields[key] = data.draw(st.one_of(st.sampled_from(["nan", "inf", "-5", "1e400", "12", "0.5"]), ODD_TEXT))
    (run / "mlperf_log_summary.txt").write_text("".join(f"{k} : {v}\n" for k, v in fields.items()))
    if data.draw(st.booleans()):
        record = {"key": data.draw(st.one_of(st.sampled_from(["result_samples_per_second", "effective_target_qps",
                                                               "result_query_count"]), JSON_VALUES)),
                  "value": data.draw(JSON_VALUES), "metadata": data.draw(JSON_VALUES)}
        (run / "mlperf_log_detail.txt").write_text(":::MLLOG " + json.dumps(record) + "\n")
    inputs = set(snapshot(sandbox.root))
    code, printed, _ = sandbox.check(["compare", str(sandbox.root / "sub"), "--format", "json"], None, inputs)
    if code == 0:
        json.loads(printed, parse_constant=lambda c: pytest.fail(f"compare printed {c}"))
    sandbox.check(["check", str(sandbox.root / "sub")], None, inputs)


@QUICK
@given(data=st.data())
def test_fuzz_mlperf_logs(sandbox, data):
    fuzz_mlperf_logs(sandbox, data)


@QUICK
@given(data=st.data())
def test_fuzz_run(sandbox, data):
    fuzz_run(sandbox, data)


@QUICK
@given(data=st.data())
def test_fuzz_profile_and_sweep(sandbox, data):
    fuzz_profile_and_sweep(sandbox, data)


@QUICK
@given(data=st.data())
def test_fuzz_result_readers(sandbox, data):
    fuzz_readers(sandbox, data)


@pytest.mark.fuzz_long
@LONG
@given(data=st.data())
def test_fuzz_long(sandbox, data):
    steps = [fuzz_run, fuzz_profile_and_sweep, fuzz_readers, fuzz_mlperf_logs]
    data.draw(st.sampled_from(steps))(sandbox, data)
