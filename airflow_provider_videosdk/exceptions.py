"""Errors raised by the VideoSDK provider."""

from __future__ import annotations

from airflow_provider_videosdk.version_compat import AirflowException, AirflowFailException


class VideoSDKInputError(AirflowFailException, ValueError):
    """A parameter or connection field has a bad value; nothing was sent. Not retried by Airflow."""


class VideoSDKError(AirflowException):
    """VideoSDK answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message
        self.request_id = request_id


class VideoSDKOutcomeUnknownError(VideoSDKError, AirflowFailException):
    """
    A request that changes something may or may not have been processed by VideoSDK.

    Never retried, by the hook or by Airflow: retrying could phone the person twice.
    """


class VideoSDKCallNotAnsweredError(AirflowFailException):
    """
    A call reached a final status without being answered (rejected, failed, rang out, ...).

    Not retried by Airflow: a downstream ``trigger_rule="one_failed"`` task phones the next person.
    """

    def __init__(self, message: str, *, call_id: str | None = None, call_status: str | None = None) -> None:
        super().__init__(message)
        self.call_id = call_id
        self.call_status = call_status
