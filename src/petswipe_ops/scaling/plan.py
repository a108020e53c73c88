"""From a forecast to capacity: tasks per hour, the scheduled actions that raise the floor
ahead of the load, and the rule that only observed load ever lowers capacity.

A forecast is trusted to add capacity early, never to take it away: the scheduled actions
only set the floor (MinCapacity) and reactive target tracking still scales in on the
measured load; locally the scaler lowers the replica count only when the observed rate
agrees.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from petswipe_ops.scaling.forecast import Forecast


class CapacitySettings(BaseModel):
    requests_per_task: float = Field(gt=0, description="requests/s one task serves at 100 %")
    target_utilization: float = Field(0.7, gt=0, le=1)
    min_tasks: int = Field(ge=1)
    max_tasks: int = Field(ge=1)
    lead_minutes: int = Field(10, ge=0, description="how early capacity is added")

    def tasks_for(self, rate: float) -> int:
        wanted = math.ceil(rate / (self.requests_per_task * self.target_utilization))
        return max(self.min_tasks, min(self.max_tasks, wanted))


class PlannedHour(BaseModel):
    at: datetime
    forecast_rps: float
    upper_rps: float
    tasks: int


class ScheduledAction(BaseModel):
    name: str
    at: datetime
    min_capacity: int
    max_capacity: int


class ScalingPlan(BaseModel):
    environment: str
    made_at: datetime
    min_tasks: int
    max_tasks: int
    lead_minutes: int
    hours: list[PlannedHour]

    def tasks_at(self, when: datetime) -> int:
        """The floor in force at `when` (capacity for an hour starts `lead_minutes` early)."""
        ahead = when + timedelta(minutes=self.lead_minutes)
        current = [h for h in self.hours if h.at <= ahead]
        return current[-1].tasks if current else self.min_tasks

    def actions(self) -> list[ScheduledAction]:
        """One action per change of the floor, `lead_minutes` before the hour it is for."""
        found: list[ScheduledAction] = []
        previous = None
        for hour in self.hours:
            if hour.tasks == previous:
                continue
            previous = hour.tasks
            at = hour.at - timedelta(minutes=self.lead_minutes)
            found.append(
                ScheduledAction(
                    name=f"petswipe-{self.environment}-predictive-{hour.at:%Y%m%dT%H%M}",
                    at=at,
                    min_capacity=hour.tasks,
                    max_capacity=self.max_tasks,
                )
            )
        return found


def plan_capacity(
    forecast: Forecast, settings: CapacitySettings, environment: str, made_at: datetime
) -> ScalingPlan:
    """Tasks for each forecast hour, sized for the upper band, within [min, max]."""
    return ScalingPlan(
        environment=environment,
        made_at=made_at,
        min_tasks=settings.min_tasks,
        max_tasks=settings.max_tasks,
        lead_minutes=settings.lead_minutes,
        hours=[
            PlannedHour(
                at=point.at,
                forecast_rps=point.value,
                upper_rps=upper.value,
                tasks=settings.tasks_for(upper.value),
            )
            for point, upper in zip(forecast.points, forecast.upper, strict=True)
        ],
    )


def replicas_to_run(
    plan: ScalingPlan,
    settings: CapacitySettings,
    now: datetime,
    running: int,
    observed_rps: float | None,
) -> int:
    """How many replicas to run now: the plan's floor, raised by the observed load.

    Fewer than `running` only when the observed rate says so too: a forecast alone never
    scales in, and nothing goes below the configured minimum.
    """
    floor = plan.tasks_at(now)
    if observed_rps is None:
        return max(running, floor, settings.min_tasks)
    wanted = max(floor, settings.tasks_for(observed_rps), settings.min_tasks)
    return min(wanted, settings.max_tasks) if wanted > running else wanted
