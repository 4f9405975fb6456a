"""The upload handler that counts a multipart request's files as they arrive and stops reading
the request once one file passes the per-file limit or all of them the per-ticket limit: a
12 GB "screenshot" costs the server 10 MB of reading, not 12 GB. The fields sent before the files
(what the nurse typed: the forms put the file input last) are kept, so the form comes back with
them and the reason (``refusal``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from tickets.attachments import clean_name, megabytes


class AttachmentLimitHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.refusal = ""
        self._file_bytes = 0
        self._total_bytes = 0
        self._name = ""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._file_bytes = 0
        self._name = clean_name(self.file_name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        helpdesk = settings.HELPDESK
        self._file_bytes += len(raw_data)
        self._total_bytes += len(raw_data)
        if self._file_bytes > helpdesk["ATTACHMENT_MAX_BYTES"]:
            limit = megabytes(helpdesk["ATTACHMENT_MAX_BYTES"])
            self.refusal = f"{self._name} is larger than {limit}, the most one file can be."
        elif self._total_bytes > helpdesk["ATTACHMENT_TICKET_MAX_BYTES"]:
            limit = megabytes(helpdesk["ATTACHMENT_TICKET_MAX_BYTES"])
            self.refusal = f"A ticket holds at most {limit} of files: send fewer or smaller files."
        if self.refusal:
            # Nothing more of the request is read: the files so far are dropped with it.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_refusal(handlers: Iterable[FileUploadHandler]) -> str:
    """Why a request's files were cut off (given its ``upload_handlers``, once its body is
    read), or "" when they all came in."""
    for handler in handlers:
        if isinstance(handler, AttachmentLimitHandler) and handler.refusal:
            return handler.refusal
    return ""
