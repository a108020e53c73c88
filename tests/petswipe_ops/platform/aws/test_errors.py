"""Bad input on AWS: each case is one sentence naming the resource and the fix, nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from pydantic import SecretStr

from petswipe_ops.config import load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.paths import project_root
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import AwsAccessDenied, AwsError, AwsUnreachable
from petswipe_ops.platform.aws.platform import AwsPlatform
from petswipe_ops.platform.aws.router import AlbRouter
from petswipe_ops.platform.aws.sandbox.moto import start_moto, stop_process
from petswipe_ops.platform.aws.secrets import SecretsManagerStore
from petswipe_ops.platform.aws.services import EcsServices
from petswipe_ops.ports import free_port

pytestmark = pytest.mark.integration


def alb_router(clients: AwsClients, outputs) -> AlbRouter:
    return AlbRouter(clients, outputs, EcsServices(clients, outputs, replicas=2))


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message.replace("e.g. ", "")


def test_no_credentials(stack, monkeypatch, tmp_path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    router = alb_router(AwsClients("us-east-1", endpoint_url=stack.endpoint), stack.outputs)
    with pytest.raises(AwsError) as caught:
        router.get_weights()
    message = str(caught.value)
    assert "no AWS credentials were found" in message and stack.outputs.listener_arn in message
    assert one_sentence(message)


def test_an_unreachable_endpoint(stack) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    clients = AwsClients(
        "us-east-1",
        endpoint_url=closed,
        credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"},
        max_attempts=1,
    )
    with pytest.raises(AwsUnreachable) as caught:
        alb_router(clients, stack.outputs).set_candidate_weight(50)
    message = str(caught.value)
    assert closed in message and "did not answer" in message and one_sentence(message)
    assert stack.platform().router.get_weights().candidate == 0


@pytest.mark.parametrize("field", ["region", "dr_region"])
def test_an_unknown_region(field: str) -> None:
    config = load_environment("staging", project_root())
    broken = config.model_copy(update={"aws": config.aws.model_copy(update={field: "mars-1"})})
    with pytest.raises(OpsError) as caught:
        AwsPlatform(broken, endpoint_url="http://127.0.0.1:9")
    message = str(caught.value)
    assert "'mars-1' is not an AWS region" in message and f"aws.{field}" in message
    assert one_sentence(message)


@pytest.fixture
def enforcing_moto(tmp_path) -> Iterator[dict]:
    """A moto server that enforces IAM after four set-up calls: a secret, a user with keys and
    a policy allowing nothing but reading the listener's target groups."""
    port = free_port()
    pid = start_moto(port, tmp_path / "moto.log", {"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    url = f"http://127.0.0.1:{port}"
    admin = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    try:
        boto3.client("secretsmanager", "us-east-1", endpoint_url=url, **admin).create_secret(
            Name="petswipe/staging/API_KEY", SecretString="planted-api-key-7f3a"
        )
        iam = boto3.client("iam", "us-east-1", endpoint_url=url, **admin)
        iam.create_user(UserName="release")
        keys = iam.create_access_key(UserName="release")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "elasticloadbalancing:DescribeTargetGroups",
                    "Resource": "*",
                }
            ],
        }
        iam.put_user_policy(
            UserName="release", PolicyName="narrow", PolicyDocument=json.dumps(policy)
        )
        yield {
            "url": url,
            "credentials": {
                "aws_access_key_id": keys["AccessKeyId"],
                "aws_secret_access_key": keys["SecretAccessKey"],
            },
        }
    finally:
        stop_process(pid)


def test_access_denied_names_the_resource_and_the_permission(enforcing_moto) -> None:
    clients = AwsClients(
        "us-east-1", endpoint_url=enforcing_moto["url"], credentials=enforcing_moto["credentials"]
    )
    with pytest.raises(AwsAccessDenied) as caught:
        SecretsManagerStore(clients, "petswipe/staging/").get("API_KEY")
    message = str(caught.value)
    assert "secret petswipe/staging/API_KEY" in message and "GetSecretValue" in message
    assert "planted-api-key-7f3a" not in message and one_sentence(message)

    with pytest.raises(AwsAccessDenied, match="access denied"):
        SecretsManagerStore(clients, "petswipe/staging/").put("API_KEY", SecretStr("other"))
