"""Secrets Manager: the service's secrets under the environment's prefix, as SecretStr.

Values never leave this module as plain strings except through `SecretStr.get_secret_value()`
at the point of use; error messages name the secret, never its value.
"""

from __future__ import annotations

from pydantic import SecretStr

from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import aws_call

STAGES = ("AWSCURRENT", "AWSPENDING", "AWSPREVIOUS")


class SecretsManagerStore:
    def __init__(self, clients: AwsClients, prefix: str) -> None:
        self.client = clients("secretsmanager")
        self.endpoint = clients.endpoint_url
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def get(self, key: str, stage: str = "AWSCURRENT") -> SecretStr:
        name = self.name(key)
        with aws_call(f"read stage {stage} of", f"secret {name}", endpoint=self.endpoint):
            reply = self.client.get_secret_value(SecretId=name, VersionStage=stage)
        return SecretStr(reply["SecretString"])

    def put(self, key: str, value: SecretStr, stage: str = "AWSCURRENT") -> str:
        """Store a new version of `key` at `stage` (creating the secret); its version id."""
        name = self.name(key)
        with aws_call("write", f"secret {name}", endpoint=self.endpoint):
            existing = self.client.list_secrets(Filters=[{"Key": "name", "Values": [name]}])
            if not any(s["Name"] == name for s in existing["SecretList"]):
                reply = self.client.create_secret(Name=name, SecretString=value.get_secret_value())
                return reply["VersionId"]
            reply = self.client.put_secret_value(
                SecretId=name, SecretString=value.get_secret_value(), VersionStages=[stage]
            )
        return reply["VersionId"]

    def stages(self, key: str) -> dict[str, list[str]]:
        """Version id -> its stages, as Secrets Manager's rotation left them."""
        name = self.name(key)
        with aws_call("list the versions of", f"secret {name}", endpoint=self.endpoint):
            reply = self.client.list_secret_version_ids(SecretId=name)
        return {v["VersionId"]: v.get("VersionStages", []) for v in reply["Versions"]}
