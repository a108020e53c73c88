"""One translation of boto3/botocore failures into a sentence naming the resource and the fix.

Every adapter wraps its calls in `aws_call(...)`, so AccessDenied, throttling, a missing
resource, an unreachable endpoint, missing credentials and an unknown region read the same
everywhere and never carry a secret (messages hold names and ARNs only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
    UnknownEndpointError,
)

from petswipe_ops.errors import OpsError

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
}
THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
}


class AwsError(OpsError):
    """An AWS API call failed; the message names the resource and what to do."""


class AwsAccessDenied(AwsError):
    pass


class AwsNotFound(AwsError):
    pass


class AwsUnreachable(AwsError):
    pass


def _is_missing(code: str) -> bool:
    return "NotFound" in code or code in {"NoSuchEntity", "InvalidParameterException.NotFound"}


@contextmanager
def aws_call(action: str, resource: str, *, endpoint: str | None = None) -> Iterator[None]:
    """Run boto3 calls for `action` on `resource`; any failure becomes one AwsError sentence.

    `action` is a verb phrase ("set the weights of"), `resource` what it acts on
    ("ALB listener arn:..."), so each message reads "could not <action> <resource>: ...".
    """
    where = f"could not {action} {resource}"
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        operation = exc.operation_name
        if code.isdigit():
            # An XML error body parsed by a JSON-protocol client (moto does this): the code is
            # the HTTP status, the real code is inside the message.
            found = re.search(r"<Code>([^<]+)</Code>", str(error.get("Message", "")))
            code = found.group(1) if found else ("AccessDenied" if status == 403 else code)
            error = {"Code": code, "Message": re.sub(r"<[^>]+>", " ", str(error.get("Message")))}
        if code in ACCESS_DENIED:
            raise AwsAccessDenied(
                f"{where}: access denied ({code} on {operation}); grant the caller's IAM "
                f"identity {operation} on it or use credentials that have it."
            ) from None
        if code in THROTTLED:
            raise AwsError(
                f"{where}: AWS kept throttling {operation} after retries ({code}); wait a "
                "minute and run again, or ask for a higher service quota."
            ) from None
        if _is_missing(code):
            raise AwsNotFound(
                f"{where}: it does not exist ({code}); apply the environment's terraform "
                "root (make tf-apply, or make aws-sandbox-up for the sandbox) or fix the name."
            ) from None
        message = str(error.get("Message", "")).rstrip(".")
        raise AwsError(
            f"{where}: {operation} failed with {code} ({message}); fix the request or the "
            "resource and run again."
        ) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsError(
            f"{where}: no AWS credentials were found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (make aws-sandbox-up prints the sandbox's)."
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        url = endpoint or getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        raise AwsUnreachable(
            f"{where}: {url} did not answer; check the network and the endpoint, or start "
            "the AWS sandbox with make aws-sandbox-up."
        ) from None
    except (InvalidRegionError, NoRegionError, UnknownEndpointError):
        raise AwsError(
            f"{where}: the AWS region is missing or unknown; set aws.region in the "
            "environment file to a real region such as us-east-1."
        ) from None
    except BotoCoreError as exc:
        detail = str(exc).rstrip(".")
        raise AwsError(f"{where}: {detail}; check the AWS configuration and run again.") from None
