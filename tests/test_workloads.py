"""The shipped workload catalog: every file loads, totals match published counts, layers pinned.

Published counts (all MACs = multiply-accumulates of conv/fc/matmul, batch 1; parameters
include biases and batch/layer-norm scale and shift):
- ResNet-50 v1.5 @224: 4.089 GMAC, 25.557 M params -- torchvision resnet50 (also the ONNX
  light_resnet50 model: 25.504 M conv+fc + 53,120 BN), reference accelerator-modeling.md s.5.
- MobileNet v2 1.0 @224: 300 M MACs, 3.4 M params in Sandler et al. 2018 table 4; torchvision
  mobilenet_v2: 0.301 GMAC, 3.505 M params.
- YOLOv3 @608: 140.69 GFLOP printed by Darknet = 70.35 GMAC; 61.949 M params (ultralytics
  yolov3 with BN scale/shift).
- BERT-base, seq 384: 35.334 GMAC including the attention score/context matmuls (2.72 GMAC) and
  the pooler (m = 1) and QA head; 109.48 M params including the embeddings and the pooler.
"""

from __future__ import annotations

import pytest

from harness import catalog
from harness.workloads import load_workload

PUBLISHED = {  # name: (GMAC, M params)
    "resnet50": (4.089, 25.557),
    "resnet50_1440": (168.909, 25.557),
    "mobilenet_v2": (0.301, 3.505),
    "yolov3": (70.346, 61.949),
    "bert_base": (35.334, 109.48),
}


def layer(workload, name):
    return next(l for l in workload.layers if l.name == name)


def gemm_layers(workload):
    return [l for l in workload.layers if l.m and l.n and l.k]


@pytest.mark.parametrize("name", catalog.names("workloads"))
def test_every_shipped_workload_loads(name):
    w = load_workload(name)
    assert w.name == name and w.layers and w.macs > 0 and w.params > 0
    assert len({l.name for l in w.layers}) == len(w.layers)
    assert w.fingerprint and w.source == f"workloads/{name}.toml"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_totals_within_one_percent_of_published(name):
    w = load_workload(name)
    gmac, mparams = PUBLISHED[name]
    assert w.macs / 1e9 == pytest.approx(gmac, rel=0.01)
    assert w.params / 1e6 == pytest.approx(mparams, rel=0.01)


def test_exact_totals_are_pinned():
    """Derived counts, exact: a change here means a catalog file or the counting changed."""
    pins = {"resnet50": (4_089_184_256, 25_557_032, 54), "mobilenet_v2": (300_774_272, 3_504_872, 53),
            "yolov3": (70_345_950_208, 61_949_149, 75), "bert_base": (35_333_996_544, 109_483_778, 98),
            "tiny": (213_152, 1_098, 4)}
    for name, (macs, params, gemms) in pins.items():
        w = load_workload(name)
        assert (w.macs, w.params, len(gemm_layers(w))) == (macs, params, gemms), name


def test_identity():
    assert load_workload("resnet50").benchmark == "resnet50"
    assert load_workload("bert_base").benchmark == "bert"
    assert load_workload("resnet50_1440").benchmark == "resnet50_1440"
    assert load_workload("resnet50").input_shape == (3, 224, 224)


def test_resnet50_layers():
    w = load_workload("resnet50")
    conv1 = layer(w, "conv1")
    assert (conv1.m, conv1.n, conv1.k, conv1.groups) == (112 * 112, 64, 147, 1)
    assert conv1.weights == 7 * 7 * 3 * 64 + 2 * 64
    assert conv1.conv == (229, 229, 7, 7, 3, 64, 2)      # SCALE-Sim row, pre-padded
    assert (conv1.in_elems, conv1.out_elems) == (150_528, 802_816)
    c2 = layer(w, "stage2.1.conv2")
    assert (c2.m, c2.n, c2.k) == (3136, 64, 576) and c2.conv == (58, 58, 3, 3, 64, 64, 1)
    down = layer(w, "stage3.1.conv2")                     # v1.5: stride on the 3x3
    assert down.out_shape == (128, 28, 28) and down.conv[-1] == 2
    proj = layer(w, "stage3.1.add_proj")
    assert (proj.m, proj.n, proj.k, proj.conv[-1]) == (784, 512, 256, 2)
    fc = layer(w, "fc")
    assert (fc.m, fc.n, fc.k, fc.weights) == (1, 1000, 2048, 2_049_000)
    assert layer(w, "avgpool").out_shape == (2048, 1, 1)


def test_resnet50_fusion_and_graph():
    w = load_workload("resnet50")
    names = [l.name for l in w.layers]
    add = layer(w, "stage2.1.add")
    assert add.fused and add.inputs == ("stage2.1.conv3", "stage2.1.add_proj")
    assert names.index("stage2.1.conv3") == names.index("stage2.1.add") - 1
    assert layer(w, "stage2.2.add").inputs == ("stage2.2.conv3", "stage2.1.add")
    assert sum(l.op == "eltwise" for l in w.layers) == 16
    assert sum(l.name.endswith("_proj") for l in w.layers) == 4


def test_resnet50_1440_scales_conv_activations():
    small, big = load_workload("resnet50"), load_workload("resnet50_1440")
    ratio = (1440 / 224) ** 2
    small_convs = [l for l in small.layers if l.op == "conv"]
    big_convs = [l for l in big.layers if l.op == "conv"]
    assert [l.name for l in small_convs] == [l.name for l in big_convs]
    assert sum(l.out_elems for l in big_convs) / sum(l.out_elems for l in small_convs) == pytest.approx(ratio)
    assert sum(l.in_elems for l in big_convs) / sum(l.in_elems for l in small_convs) == pytest.approx(ratio)
    assert big.params == small.params
    assert layer(big, "conv1").out_shape == (64, 720, 720)


def test_mobilenet_v2_layers():
    w = load_workload("mobilenet_v2")
    dw = layer(w, "b2.1.dw")
    assert (dw.m, dw.n, dw.k, dw.groups) == (56 * 56, 1, 9, 96)
    assert dw.conv == (113, 113, 3, 3, 1, 1, 2) and dw.weights == 96 * 9 + 2 * 96
    assert not any(l.name == "b2.1.add" for l in w.layers)   # stride 2: no residual
    assert layer(w, "b2.2.add").fused
    depthwise = sum(l.macs for l in w.layers if l.op == "conv" and l.n == 1 and l.groups > 1)
    assert depthwise == 20_716_416                            # 20.7 M, 6.9 % (reference s.5)


def test_yolov3_layers():
    w = load_workload("yolov3")
    heads = [layer(w, f"head{i}.detect") for i in (1, 2, 3)]
    assert [h.out_shape for h in heads] == [(255, 19, 19), (255, 38, 38), (255, 76, 76)]
    assert heads[0].weights == 1024 * 255 + 255
    assert layer(w, "cat1").out_shape == (768, 38, 38)
    assert layer(w, "cat2").out_shape == (384, 76, 76)
    assert layer(w, "lateral1").inputs == ("head1.route",)
    assert layer(w, "res3.8.add").out_shape == (256, 76, 76)


def test_bert_base_layers():
    w = load_workload("bert_base")
    emb = layer(w, "embeddings")
    assert emb.macs == 0 and emb.weights == (30522 + 512 + 2) * 768
    q = layer(w, "encoder.1.query")
    assert (q.m, q.n, q.k, q.weights) == (384, 768, 768, 768 * 768 + 768)
    scores = layer(w, "encoder.1.scores")
    assert (scores.m, scores.n, scores.k, scores.groups, scores.weights) == (384, 384, 64, 12, 0)
    ctx = layer(w, "encoder.1.context")
    assert (ctx.m, ctx.n, ctx.k, ctx.groups) == (384, 64, 384, 12) and ctx.out_shape == (384, 768)
    attention = sum(l.macs for l in w.layers if l.op == "matmul" and l.weights == 0)
    assert attention == 2_717_908_992                          # 2.72 of 35.33 GMAC
    assert layer(w, "pooler").m == 1 and layer(w, "qa_outputs").out_shape == (384, 2)
    assert layer(w, "encoder.12.ffn_ln").out_shape == (384, 768)
    assert layer(w, "encoder.1.probs").fused


def test_tiny_layers():
    w = load_workload("tiny")
    assert [l.op for l in w.layers] == ["conv", "conv", "conv", "eltwise", "pool", "matmul"]
    assert layer(w, "dw").groups == 16 and layer(w, "add").inputs == ("pw", "conv1")


def test_resnet50_per_stage_counts():
    """Per-stage MMAC / M params of accelerator-modeling.md s.5 (torchvision resnet50)."""
    published = {"conv1": (118.0, 0.01), "stage2": (667.9, 0.22), "stage3": (1027.6, 1.22),
                 "stage4": (1464.3, 7.10), "stage5": (809.2, 14.97), "fc": (2.0, 2.05)}
    w = load_workload("resnet50")
    for stage, (mmacs, mparams) in published.items():
        layers = [l for l in w.layers if l.name.split(".")[0] == stage]
        assert sum(l.macs for l in layers) / 1e6 == pytest.approx(mmacs, abs=0.05), stage
        assert sum(l.weights for l in layers) / 1e6 == pytest.approx(mparams, abs=0.006), stage
