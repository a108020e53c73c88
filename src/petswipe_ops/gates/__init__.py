"""Canary gates: turn a window of per-version observations into a verdict."""

from petswipe_ops.gates.base import Gate, GateDecision, GateInput, Verdict
from petswipe_ops.gates.threshold import ThresholdGate

__all__ = ["Gate", "GateDecision", "GateInput", "ThresholdGate", "Verdict", "build_gate"]


def build_gate(kind: str) -> Gate:
    """The gate named by an environment's `canary.gate`."""
    gates: dict[str, type[Gate]] = {"threshold": ThresholdGate}
    return gates[kind]()
