"""Network definitions the zoo builds on (torchvision cannot be installed beside the CPU torch here)."""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, act(inplace=True)) if act else nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: 1×1 reduce, 3×3 (stride here), 1×1 expand, plus a projected shortcut."""

    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        cout = width * 4
        self.body = nn.Sequential(
            _conv_bn(cin, width, 1), _conv_bn(width, width, 3, stride), _conv_bn(width, cout, 1, act=None)
        )
        self.short = _conv_bn(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.short(x))


def resnet50(num_classes: int = 1000) -> nn.Module:
    """ResNet-50 (He et al. 2016, v1.5): 25.6 M parameters, about 4.1 G multiply-adds at 224×224."""
    layers, cin = [_conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)], 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = width * 4
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expand, 3×3 depthwise, 1×1 linear projection; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [_conv_bn(cin, hidden, 1, act=nn.ReLU6)] if expand != 1 else []
        layers += [
            _conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            _conv_bn(hidden, cout, 1, act=None),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


def mobilenetv2(num_classes: int = 1000) -> nn.Module:
    """MobileNetV2 1.0 (Sandler et al. 2018): 3.5 M parameters, about 300 M multiply-adds at 224×224."""
    layers, cin = [_conv_bn(3, 32, 3, 2, act=nn.ReLU6)], 32
    for t, c, n, s in [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers += [
        _conv_bn(cin, 1280, 1, act=nn.ReLU6),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(1280, num_classes),
    ]
    return nn.Sequential(*layers)


def digits_cnn() -> nn.Module:
    """A small CNN for 8×8 grey digits (scikit-learn's bundled set): two convolutions and a classifier."""
    return nn.Sequential(
        _conv_bn(1, 16, 3), _conv_bn(16, 32, 3, 2), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(128, 10)
    )


def digits_linear() -> nn.Module:
    """Multinomial logistic regression on the 64 pixels: the smallest digits model, for the edge of a cascade."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))


def fraud_mlp(features: int) -> nn.Module:
    """A two-hidden-layer MLP that scores one tabular transaction (one logit out)."""
    return nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))


class MeanPooledEncoder(nn.Module):
    """A BERT-style encoder followed by sentence-transformers' mean pooling and L2 normalisation."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)
