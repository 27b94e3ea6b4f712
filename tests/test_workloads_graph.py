"""The TOML layer-graph format (harness.workloads.graph, builder, ops, expr): derived counts,
blocks, references, overrides, and strict loading that names file, key and value."""

from __future__ import annotations

import textwrap

import pytest

from harness.errors import ConfigError
from harness.workloads import load_workload


def write(tmp_path, text, name="w.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def load(tmp_path, text, overrides=None):
    return load_workload(write(tmp_path, text), overrides)


def problems(tmp_path, text, overrides=None):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, overrides)
    return info.value.lines()


def one_line(lines, *parts):
    """The single message line containing every part (file, key path, value, rule words)."""
    hits = [line for line in lines if all(p in line for p in parts)]
    assert len(hits) == 1, (parts, lines)
    return hits[0]


# ---------------------------------------------------------------- derived counts


def test_conv_padding_stride_and_groups(tmp_path):
    w = load(tmp_path, """
        input = [8, 15, 15]
        layers = [
          { op = "conv", name = "same", filters = 16, kernel = 3, stride = 2 },
          { op = "conv", name = "valid", filters = 16, kernel = 3, padding = "valid" },
          { op = "conv", name = "explicit", filters = 32, kernel = [1, 3], padding = [0, 1], groups = 4, bias = false },
          { op = "conv", name = "dw", depthwise = true, kernel = 3, stride = 2, norm = "batch" },
        ]
    """)
    same, valid, explicit, dw = w.layers
    assert same.out_shape == (16, 8, 8) and (same.m, same.n, same.k) == (64, 16, 72)
    assert same.weights == 3 * 3 * 8 * 16 + 16 and same.conv == (17, 17, 3, 3, 8, 16, 2)
    assert valid.out_shape == (16, 6, 6) and valid.conv == (8, 8, 3, 3, 16, 16, 1)
    assert explicit.out_shape == (32, 6, 6)
    assert (explicit.n, explicit.k, explicit.groups, explicit.weights) == (8, 12, 4, 3 * 4 * 32)
    assert dw.out_shape == (32, 3, 3) and (dw.n, dw.k, dw.groups) == (1, 9, 32)
    assert dw.weights == 9 * 32 + 2 * 32 and dw.macs == 9 * 9 * 32


def test_pooling_upsample_concat(tmp_path):
    w = load(tmp_path, """
        input = [4, 8, 8]
        layers = [
          { op = "pool", name = "max", kernel = 2 },
          { op = "upsample", name = "up", scale = 2 },
          { op = "concat", name = "cat", from = ["up", "input"] },
          { op = "pool", name = "gap", kind = "avg", global = true },
          { op = "fc", name = "fc", features = 3, act = "relu" },
        ]
    """)
    pool, up, cat, gap, fc = w.layers
    assert pool.out_shape == (4, 4, 4) and pool.vector_ops == 64 * 4 and pool.macs == 0
    assert up.out_shape == (4, 8, 8) and up.vector_ops == 0
    assert cat.out_shape == (8, 8, 8) and cat.in_elems == 512 and cat.inputs == ("up", "")
    assert gap.vector_ops == 512 and gap.out_shape == (8, 1, 1)
    assert (fc.m, fc.n, fc.k, fc.weights, fc.vector_ops) == (1, 3, 8, 27, 3)


def test_transformer_pieces(tmp_path):
    w = load(tmp_path, """
        input = [10]
        layers = [
          { op = "embedding", name = "emb", tables = [100, 10], features = 8 },
          { op = "norm", name = "ln", kind = "layer", fused = true },
          { op = "fc", name = "q", features = 8 },
          { op = "fc", name = "k", from = "ln", features = 8 },
          { op = "matmul", name = "s", from = ["q", "k"], heads = 2, transpose_b = true },
          { op = "softmax", name = "p", fused = true },
          { op = "matmul", name = "ctx", from = ["p", "ln"], heads = 2, merge_heads = true },
          { op = "activation", name = "gelu", fn = "gelu" },
        ]
    """)
    emb, ln, q, k, s, p, ctx, gelu = w.layers
    assert emb.weights == 110 * 8 and emb.macs == 0 and emb.out_shape == (10, 8)
    assert ln.weights == 16 and ln.vector_ops == 80 * 4 and ln.fused
    assert (s.m, s.n, s.k, s.groups, s.weights) == (10, 10, 4, 2, 0) and s.out_shape == (2, 10, 10)
    assert p.vector_ops == 200 * 3
    assert (ctx.m, ctx.n, ctx.k, ctx.groups) == (10, 4, 10, 2) and ctx.out_shape == (10, 8)
    assert gelu.vector_ops == 80 and gelu.op == "eltwise"


def test_blocks_repeat_first_and_expressions(tmp_path):
    w = load(tmp_path, """
        input = [4, 16, 16]
        layers = [
          { block = "res", name = "stage", repeat = 3, args = { out = 8 }, first = { stride = 2 } },
        ]
        [blocks.res]
        params = ["out", "stride"]
        defaults = { stride = 1 }
        layers = [
          { op = "conv", name = "a", filters = "$out * 2 + in_channels // 4", kernel = 3, stride = "$stride" },
          { op = "conv", name = "b", filters = "$out", kernel = 1 },
          { op = "add", name = "add", skip = "input", on_mismatch = "project", projection_norm = "none", fused = true },
        ]
    """)
    names = [l.name for l in w.layers]
    assert names[:4] == ["stage.1.a", "stage.1.add_proj", "stage.1.b", "stage.1.add"]
    assert len(w.layers) == 4 + 3 + 3
    first, second = w.layers[0], w.layers[4]
    assert first.out_shape == (17, 8, 8) and second.out_shape == (18, 8, 8)   # 8*2 + 4//4, 8*2 + 8//4
    proj = w.layers[1]
    assert proj.conv == (15, 15, 1, 1, 4, 8, 2) and proj.weights == 4 * 8 + 8
    assert w.layers[-1].inputs == ("stage.3.b", "stage.2.add")


def test_fused_layers_and_qualified_references(tmp_path):
    w = load(tmp_path, """
        input = [2, 4, 4]
        layers = [
          { block = "two", name = "t" },
          { op = "conv", name = "c", from = "t.first", filters = 2, kernel = 1 },
          { op = "add", name = "add", skip = "t", fused = true },
        ]
        [blocks.two]
        layers = [
          { op = "conv", name = "first", filters = 2, kernel = 1 },
          { op = "activation", fn = "relu", fused = true },
        ]
    """)
    assert [l.fused for l in w.layers] == [False, True, False, True]
    assert w.layers[2].inputs == ("t.first",) and w.layers[3].inputs == ("c", "t.activation1")


def test_override_changes_input_and_fingerprint():
    base = load_workload("resnet50")
    big = load_workload("resnet50", {"input": [3, 448, 448]})
    assert big.input_shape == (3, 448, 448) and big.params == base.params
    assert big.macs == pytest.approx(4 * base.macs, rel=0.01)
    assert big.fingerprint != base.fingerprint
    assert load_workload("resnet50", {"benchmark": "x"}).benchmark == "x"


def test_extends_replaces_top_level_keys(tmp_path):
    write(tmp_path, 'input = [3, 8, 8]\nlayers = [{ op = "conv", filters = 4, kernel = 3 }]\n', "base.toml")
    w = load(tmp_path, 'extends = "base.toml"\nname = "child"\ninput = [3, 16, 16]\n')
    assert w.name == "child" and w.layers[0].out_shape == (4, 16, 16)


# ---------------------------------------------------------------- strict loading


def test_all_key_problems_reported_together(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 0, 32]
        colour = "red"
        layers = [
          { op = "conv", filters = -4, kernel = 3, strid = 2 },
          { op = "fc" },
          { op = "pool", kind = "median", kernel = 2 },
          { op = "transpose" },
        ]
    """)
    assert len(lines) == 7
    one_line(lines, "w.toml", "input = [3, 0, 32]", "positive integers")
    one_line(lines, "w.toml", "colour = 'red'", "unknown key")
    one_line(lines, "w.toml", "layers[0].filters = -4", "must be a number from 1 to")
    one_line(lines, "w.toml", "layers[0].strid = 2", "unknown key", "stride")
    one_line(lines, "w.toml", "layers[1].features", "required key is missing")
    one_line(lines, "w.toml", "layers[2].kind = 'median'", "must be one of max, avg")
    one_line(lines, "w.toml", "layers[3].op = 'transpose'", "unknown operator")


def test_wrong_types(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 8, 8]
        layers = [
          { op = "conv", filters = "many", kernel = [3, 3, 3], padding = "full", bias = 1 },
        ]
    """)
    one_line(lines, "layers[0].filters = 'many'", "must be an integer")
    one_line(lines, "layers[0].kernel = [3, 3, 3]", "[height, width]")
    one_line(lines, "layers[0].padding = 'full'", '"same"')
    one_line(lines, "layers[0].bias = 1", "true or false")


def test_missing_layers_and_input(tmp_path):
    lines = problems(tmp_path, 'name = "x"\n')
    one_line(lines, "w.toml: input:", "required key is missing")
    one_line(lines, "w.toml: layers:", "required key is missing")


def test_shape_mismatch_names_key_and_value(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 32, 32]
        layers = [
          { op = "conv", name = "a", filters = 8, kernel = 3 },
          { op = "conv", name = "b", filters = 16, kernel = 3, stride = 2 },
          { op = "add", skip = "a" },
          { op = "conv", filters = 8, kernel = 3, from = "nowhere" },
        ]
    """)
    one_line(lines, "w.toml", "layers[2].skip = 'a'", "[8, 32, 32]", "[16, 16, 16]")
    one_line(lines, "w.toml", "layers[3].from = 'nowhere'", "no earlier layer")
    assert len(lines) == 2          # no cascade of shape errors after the first


def test_window_larger_than_input_and_bad_groups(tmp_path):
    lines = problems(tmp_path, """
        input = [6, 4, 4]
        layers = [{ op = "conv", filters = 8, kernel = 5, padding = "valid" }]
    """)
    one_line(lines, "layers[0].kernel = 5", "larger than the padded input 4")
    lines = problems(tmp_path, """
        input = [6, 4, 4]
        layers = [{ op = "conv", filters = 8, kernel = 1, groups = 4 }]
    """)
    one_line(lines, "layers[0].groups = 4", "input channels (6)")


def test_wrong_input_kind(tmp_path):
    lines = problems(tmp_path, """
        input = [16, 8]
        layers = [{ op = "conv", filters = 8, kernel = 3 }]
    """)
    one_line(lines, "layers[0].from = 'input'", "conv needs image [C, H, W]", "sequence [16, 8]")


def test_block_problems_name_use_and_block_key(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 8, 8]
        layers = [
          { block = "blk", name = "use", args = { width = 8, depth = 3 } },
          { block = "blk", name = "use2" },
          { block = "nope" },
        ]
        [blocks.blk]
        params = ["width"]
        layers = [{ op = "conv", filters = "$width * wide", kernel = 1 }]
        [blocks.unused]
        layers = [{ op = "softmax" }]
    """)
    one_line(lines, "w.toml", "layers[0].args.depth = 3", "not a parameter")
    one_line(lines, "w.toml", "layers[0] > blocks.blk.layers[0].filters = '$width * wide'",
             "unknown name 'wide'")
    one_line(lines, "layers[1].args.width", "required block argument is missing")
    one_line(lines, "layers[2].block = 'nope'", "unknown block; known: blk, unused")
    one_line(lines, "blocks.unused", "defined but never used")


def test_bad_block_layer_key_reported_once(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 8, 8]
        layers = [{ block = "blk", repeat = 4 }]
        [blocks.blk]
        layers = [{ op = "conv", filters = 4, kernel = 1, colour = 1 }]
    """)
    assert lines == [f"{tmp_path / 'w.toml'}: layers[0] > blocks.blk.layers[0].colour = 1: "
                     "unknown key; known keys: act, bias, depthwise, filters, from, fused, groups, "
                     "kernel, name, norm, op, padding, stride"]


def test_fused_must_follow_its_input(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 8, 8]
        layers = [
          { op = "conv", name = "a", filters = 4, kernel = 1 },
          { op = "conv", name = "b", filters = 4, kernel = 1 },
          { op = "activation", fn = "relu", from = "a", fused = true },
        ]
    """)
    one_line(lines, "layers[2].fused = True", "previous layer's output (b)")


def test_duplicate_names_and_bad_from(tmp_path):
    lines = problems(tmp_path, """
        input = [3, 8, 8]
        layers = [
          { op = "conv", name = "a", filters = 4, kernel = 1 },
          { op = "conv", name = "a", filters = 4, kernel = 1 },
          { op = "matmul", from = "a" },
          { op = "conv", name = "x.y", filters = 4, kernel = 1 },
        ]
    """)
    one_line(lines, "layers[1].name = 'a'", "already used")
    one_line(lines, "layers[2].from = 'a'", "list of 2")
    one_line(lines, "layers[3].name = 'x.y'", "letters, digits")


def test_bad_override_is_reported_as_set():
    with pytest.raises(ConfigError) as info:
        load_workload("resnet50", {"input": [3, -1, 448]})
    assert str(info.value).startswith("--set input=[3, -1, 448]: input = [3, -1, 448]:")
    with pytest.raises(ConfigError) as info:
        load_workload("resnet50", {"inptu": 3})
    assert "--set inptu=3: inptu = 3: unknown key" in str(info.value)


def test_extends_cycle_and_unsupported_suffix(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(ConfigError, match=r"a\.toml: extends = 'b\.toml'|b\.toml: extends = 'a\.toml'"):
        load_workload(str(tmp_path / "a.toml"))
    (tmp_path / "m.pb").write_text("x")
    with pytest.raises(ConfigError, match="unsupported file type"):
        load_workload(str(tmp_path / "m.pb"))


def test_extends_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"w\.toml: extends = 'gone\.toml': file not found"):
        load(tmp_path, 'extends = "gone.toml"\n')


@pytest.mark.parametrize("cell,gates", [("lstm", 4), ("gru", 3), ("rnn", 1)])
def test_recurrent_layers_are_accepted_with_their_shape_keys(tmp_path, cell, gates):
    w = load(tmp_path, f"""
        input = [35, 512]
        layers = [{{ op = "lstm", name = "rnn", cell = "{cell}", hidden = 256, directions = 2 }}]
    """)
    (layer,) = w.layers
    assert layer.macs == 2 * 35 * gates * 256 * (512 + 256)
    assert layer.weights == 2 * gates * 256 * (512 + 256 + 2)
    assert layer.out_shape == (35, 512)


def test_an_embedding_streams_only_the_rows_it_looks_up():
    """bert_base: 384 tokens x 768 wide from each of its three tables (word, position, type)."""
    from harness.accel import AcceleratorModel, load_hardware
    from harness import catalog
    (emb,) = [layer for layer in load_workload("bert_base").layers if layer.op == "embedding"]
    assert emb.gathered == 3 * 384 * 768
    hw = load_hardware(catalog.resolve("systems", "npu_v2"), "npu_v2")
    row = AcceleratorModel(hw, load_workload("bert_base")).profile(1, masters=False).layers[0]
    assert (row.name, row.weights_resident, row.weight_dram_bytes) == ("embeddings", False, 3 * 384 * 768)
