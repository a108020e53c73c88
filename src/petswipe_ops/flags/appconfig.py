"""The flag store seam over AWS AppConfig: hosted configuration versions of the
`AWS.AppConfig.FeatureFlags` profile, and the deployment of each version.

moto server stores hosted configuration versions but has no environments, deployment
strategies or deployments, and no ListHostedConfigurationVersions. So the newest version
is found by probing numbers upwards, and `StartDeployment` / `CreateDeploymentStrategy`
requests are checked against botocore's own AppConfig service model (the shapes AWS
accepts) before they are sent; the tests check them that way instead of against moto.
The percentage schedule is run by the rollout flow, one version per step, each deployed
with an all-at-once strategy, so AppConfig never runs a schedule of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from botocore.validate import validate_parameters

from petswipe_ops.errors import OpsError
from petswipe_ops.flags.model import FeatureFlags, catalogue
from petswipe_ops.flags.store import FlagStoreConflict, FlagVersion

BOTO_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard"})
PROFILE_TYPE = "AWS.AppConfig.FeatureFlags"
ALL_AT_ONCE = {
    "Name": "petswipe-flag-step",
    "Description": "one flag rollout step, all at once; the flow runs the percentages",
    "DeploymentDurationInMinutes": 0,
    "FinalBakeTimeInMinutes": 0,
    "GrowthFactor": 100.0,
    "GrowthType": "LINEAR",
    "ReplicateTo": "NONE",
}


class AppConfigError(OpsError):
    """AppConfig refused a request."""


def _fail(action: str, exc: Exception) -> AppConfigError:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    return AppConfigError(
        f"AppConfig refused to {action} ({code}); check the application and profile exist "
        "and that the role may change them."
    )


def checked(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` validated against botocore's model of `operation`; raises on a bad shape."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    try:
        validate_parameters(params, shape)
    except ParamValidationError as exc:
        raise AppConfigError(
            f"the {operation} request does not match AppConfig's API ({exc})."
        ) from None
    return params


class AppConfigFlagStore:
    def __init__(
        self,
        application: str,
        profile: str,
        region: str,
        id_cache: Path | None = None,
        client: Any = None,
    ) -> None:
        self.client = client or boto3.client("appconfig", region_name=region, config=BOTO_CONFIG)
        self.id_cache = id_cache
        self.application_name = application
        self.profile_name = profile
        self._ids: tuple[str, str] | None = None

    def _cached_ids(self) -> tuple[str, str] | None:
        """The ids remembered from an earlier run, if AppConfig still has them."""
        if self.id_cache is None or not self.id_cache.is_file():
            return None
        cached = json.loads(self.id_cache.read_text())
        try:
            self.client.get_configuration_profile(
                ApplicationId=cached["application"], ConfigurationProfileId=cached["profile"]
            )
        except ClientError:
            return None
        return cached["application"], cached["profile"]

    def _listed(self, operation: str, **kwargs: str) -> list[dict[str, Any]]:
        """Items of a List call; empty where the endpoint lacks it (moto server)."""
        try:
            return getattr(self.client, operation)(**kwargs)["Items"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("AccessDeniedException", "ForbiddenException"):
                raise
            return []

    def ids(self) -> tuple[str, str]:
        """The application and profile ids: remembered, listed, or created when missing."""
        if self._ids is not None:
            return self._ids
        try:
            self._ids = self._cached_ids()
            if self._ids is None:
                apps = self._listed("list_applications")
                app = next((a for a in apps if a["Name"] == self.application_name), None)
                app_id = (
                    app["Id"]
                    if app
                    else self.client.create_application(Name=self.application_name)["Id"]
                )
                profiles = self._listed("list_configuration_profiles", ApplicationId=app_id)
                profile = next((p for p in profiles if p["Name"] == self.profile_name), None)
                profile_id = (
                    profile["Id"]
                    if profile
                    else self.client.create_configuration_profile(
                        ApplicationId=app_id,
                        Name=self.profile_name,
                        LocationUri="hosted",
                        Type=PROFILE_TYPE,
                    )["Id"]
                )
                self._ids = (app_id, profile_id)
        except (ClientError, BotoCoreError) as exc:
            raise _fail("find the feature-flag profile", exc) from None
        if self.id_cache is not None:
            self.id_cache.parent.mkdir(parents=True, exist_ok=True)
            application, profile = self._ids
            self.id_cache.write_text(json.dumps({"application": application, "profile": profile}))
        return self._ids

    def _get(self, number: int) -> FlagVersion | None:
        app_id, profile_id = self.ids()
        try:
            reply = self.client.get_hosted_configuration_version(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=number
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFoundException", "404"):
                return None
            raise _fail("read a hosted configuration version", exc) from None
        document = FeatureFlags.parse(
            json.loads(reply["Content"].read()), f"hosted configuration version {number}"
        )
        return FlagVersion(
            number=number, document=document, description=reply.get("Description") or ""
        )

    def _newest_number(self) -> int:
        """Probe upwards for the newest version number (moto has no list call)."""
        high = 0
        step = 1
        while self._get(high + step) is not None:
            high += step
            step *= 2
        while step > 1:
            step //= 2
            if self._get(high + step) is not None:
                high += step
        return high

    def latest(self) -> FlagVersion:
        newest = self._newest_number()
        if newest == 0:
            return FlagVersion(number=0, document=catalogue(), description="no version stored yet")
        found = self._get(newest)
        assert found is not None
        return found

    def put(self, document: FeatureFlags, description: str, expected: int) -> FlagVersion:
        app_id, profile_id = self.ids()
        params: dict[str, Any] = {
            "ApplicationId": app_id,
            "ConfigurationProfileId": profile_id,
            "Content": json.dumps(document.dump()).encode(),
            "ContentType": "application/json",
            "Description": description[:1024],
        }
        if expected:
            params["LatestVersionNumber"] = expected
        try:
            reply = self.client.create_hosted_configuration_version(**params)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConflictException":
                raise FlagStoreConflict(
                    "another flag version was stored meanwhile; run the command again."
                ) from None
            raise _fail("store a hosted configuration version", exc) from None
        return FlagVersion(
            number=int(reply["VersionNumber"]), document=document, description=description
        )

    def strategy_request(self) -> dict[str, Any]:
        return checked(self.client, "CreateDeploymentStrategy", dict(ALL_AT_ONCE))

    def deployment_request(
        self, environment_id: str, strategy_id: str, number: int, description: str
    ) -> dict[str, Any]:
        app_id, profile_id = self.ids()
        return checked(
            self.client,
            "StartDeployment",
            {
                "ApplicationId": app_id,
                "EnvironmentId": environment_id,
                "DeploymentStrategyId": strategy_id,
                "ConfigurationProfileId": profile_id,
                "ConfigurationVersion": str(number),
                "Description": description[:1024],
            },
        )

    def deploy(self, environment_id: str, number: int, description: str) -> str:
        """Deploy version `number` to `environment_id` at once; returns the deployment number."""
        try:
            known = self.client.list_deployment_strategies()["Items"]
            strategy = next((s for s in known if s["Name"] == ALL_AT_ONCE["Name"]), None)
            if strategy is None:
                strategy = self.client.create_deployment_strategy(**self.strategy_request())
            reply = self.client.start_deployment(
                **self.deployment_request(environment_id, strategy["Id"], number, description)
            )
        except (ClientError, BotoCoreError) as exc:
            raise _fail("deploy the flag version", exc) from None
        return str(reply["DeploymentNumber"])
