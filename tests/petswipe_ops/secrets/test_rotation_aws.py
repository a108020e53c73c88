"""Rotation through the Secrets Manager API of a real moto server: the stages move and the
old value stays readable as AWSPREVIOUS. The database rotated there is a real PostgreSQL."""

from __future__ import annotations

import boto3
import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import make_url

from petswipe_ops.config import load_environment
from petswipe_ops.errors import ConfigError
from petswipe_ops.secrets.environment import rotation_for
from petswipe_ops.secrets.model import SecretKind
from petswipe_ops.secrets.targets import DbCredentials

pytestmark = pytest.mark.integration


def _value(sm, name: str, stage: str) -> str:
    return sm.get_secret_value(SecretId=name, VersionStage=stage)["SecretString"]


def test_api_key_rotation_moves_the_stages_in_secrets_manager(moto_endpoint, make_project):
    project = make_project()
    config = load_environment("staging", project.root)
    sm = boto3.client("secretsmanager", region_name=moto_endpoint.region)
    name = "petswipe/staging/api-key"

    first = rotation_for(config, SecretKind.API_KEY).run()
    value_one = _value(sm, name, "AWSCURRENT")
    second = rotation_for(config, SecretKind.API_KEY).run()

    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages[second.rotation_id] == ["AWSCURRENT"]
    assert stages[first.rotation_id] == ["AWSPREVIOUS"]
    assert _value(sm, name, "AWSPREVIOUS") == value_one
    assert _value(sm, name, "AWSCURRENT") != value_one
    assert not any("AWSPENDING" in s for s in stages.values())


def test_database_rotation_on_aws_alternates_users_with_the_master_secret(
    moto_endpoint, make_project, postgresql_url
):
    project = make_project()
    config = load_environment("staging", project.root)
    url = make_url(postgresql_url)
    master = DbCredentials(
        host=url.host,
        port=url.port,
        dbname=url.database,
        username=url.username,
        password=SecretStr(url.password),
    )
    sm = boto3.client("secretsmanager", region_name=moto_endpoint.region)
    sm.create_secret(
        Name="petswipe/staging/db-master", SecretString=master.dump().get_secret_value()
    )
    name = "petswipe/staging/db-credentials"

    rotation_for(config, SecretKind.DB).run()
    old = DbCredentials.load(SecretStr(_value(sm, name, "AWSCURRENT")))
    rotation_for(config, SecretKind.DB).run()

    new = DbCredentials.load(SecretStr(_value(sm, name, "AWSCURRENT")))
    previous = DbCredentials.load(SecretStr(_value(sm, name, "AWSPREVIOUS")))
    assert previous == old
    assert {old.username, new.username} == {"petswipe_app_a", "petswipe_app_b"}
    for creds in (old, new):  # both roles log in during the overlap
        with psycopg.connect(creds.conninfo()) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == creds.username


def test_database_rotation_without_a_master_secret_is_refused(moto_endpoint, make_project):
    project = make_project()
    config = load_environment("staging", project.root)
    with pytest.raises(ConfigError, match="has no AWSCURRENT value of petswipe/staging/db-master"):
        rotation_for(config, SecretKind.DB)
    sm = boto3.client("secretsmanager", region_name=moto_endpoint.region)
    assert sm.list_secrets()["SecretList"] == []
