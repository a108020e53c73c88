"""Canary gates: turn a window of per-version observations into a verdict."""

from petswipe_ops.config import Canary
from petswipe_ops.gates.base import Gate, GateDecision, GateInput, Verdict
from petswipe_ops.gates.sequential import SequentialGate
from petswipe_ops.gates.threshold import ThresholdGate

__all__ = [
    "Gate",
    "GateDecision",
    "GateInput",
    "SequentialGate",
    "ThresholdGate",
    "Verdict",
    "build_gate",
]


def build_gate(canary: Canary, budget_remaining: float | None = None) -> Gate:
    """The gate an environment's `canary.gate` names, with its settings.

    `budget_remaining` (0..1) tightens the sequential gate; the threshold gate has no
    knob for it, the guard's refusal of a spent budget applies to both.
    """
    if canary.gate == "threshold":
        return ThresholdGate()
    return SequentialGate(canary.sequential, budget_remaining)
