"""The upload handler stops reading a request at the attachment limits."""

from __future__ import annotations

import io

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests.attachment_files import upload
from tickets.uploads import upload_refusal


class CountingStream(io.BytesIO):
    """The request body, counting what the server reads of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.read_bytes += len(line)
        return line


def multipart_request(fields: dict) -> tuple[WSGIRequest, CountingStream, int]:
    body = encode_multipart(BOUNDARY, fields)
    stream = CountingStream(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/file/",
        "CONTENT_TYPE": MULTIPART_CONTENT,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": stream,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    return WSGIRequest(environ), stream, len(body)


@pytest.fixture
def limits(settings):
    settings.HELPDESK = {
        **settings.HELPDESK,
        "ATTACHMENT_MAX_BYTES": 100_000,
        "ATTACHMENT_TICKET_MAX_BYTES": 150_000,
    }


@pytest.mark.usefixtures("limits")
def test_a_file_over_the_limit_stops_the_reading_and_keeps_the_fields_before_it():
    request, stream, total = multipart_request(
        {"title": "Printer jams", "attachments": upload("big.log", b"a" * 5_000_000)}
    )
    assert request.POST["title"] == "Printer jams"
    assert "attachments" not in request.FILES
    assert upload_refusal(request.upload_handlers).startswith("big.log is larger than")
    # Read up to the limit and a chunk past it, not the 5 MB.
    assert stream.read_bytes < 400_000 < total


@pytest.mark.usefixtures("limits")
def test_files_together_over_the_ticket_limit_stop_the_reading():
    files = [upload(f"f{n}.log", b"a" * 90_000) for n in range(4)]
    request, stream, total = multipart_request({"attachments": files})
    # The second file is the one cut off; the form refuses them all for the reason given.
    assert len(request.FILES.getlist("attachments")) == 1
    assert "A ticket holds at most" in upload_refusal(request.upload_handlers)
    assert stream.read_bytes < total


@pytest.mark.usefixtures("limits")
def test_files_within_the_limits_all_come_in():
    files = [upload(f"f{n}.log", b"a" * 50_000) for n in range(2)]
    request, _stream, _total = multipart_request({"attachments": files})
    assert len(request.FILES.getlist("attachments")) == 2
    assert upload_refusal(request.upload_handlers) == ""
