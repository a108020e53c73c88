"""Predictive scaling: request-rate history, a seasonal forecast and a capacity plan."""
