import math

import pytest

from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.gates.budget import ErrorBudgetExhausted, check_error_budget, tightening


@pytest.mark.parametrize("remaining", [0.0, -0.2])
def test_a_spent_budget_refuses_the_release_in_one_sentence(remaining):
    with pytest.raises(ErrorBudgetExhausted) as caught:
        check_error_budget(remaining)
    message = str(caught.value)
    assert isinstance(caught.value, OpsError)
    assert message.startswith("The error budget is spent")
    assert message.endswith(".") and message.count(".") == 1 and "\n" not in message


@pytest.mark.parametrize("remaining", [0.01, 0.5, 1.0])
def test_any_budget_left_lets_the_release_start(remaining):
    check_error_budget(remaining)


@pytest.mark.parametrize("remaining", [1.5, math.nan])
def test_a_budget_that_is_not_a_fraction_is_a_configuration_error(remaining):
    with pytest.raises(ConfigError, match="between 0 and 1"):
        check_error_budget(remaining)


@pytest.mark.parametrize(
    ("remaining", "factor"), [(None, 1.0), (0.9, 1.0), (0.5, 1.0), (0.25, 0.5), (0.01, 0.1)]
)
def test_the_gate_tightens_in_proportion_to_the_budget_left_under_the_limit(remaining, factor):
    assert tightening(remaining, below=0.5) == pytest.approx(factor)
