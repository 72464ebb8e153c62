"""The pieces of the Pulsar job client that need no broker: command placeholders, file names, TLS options, the job files API."""
import os
import urllib.error
import urllib.request

import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import job_files, pulsar_client


def test_placeholders_become_paths_and_other_braces_stay():
    command = "awk '{print $1}' {input:reads.txt} > {output:ids.txt}"
    rendered = pulsar_client.render_command(command, {"reads.txt": "/j/inputs/reads.txt"}, {"ids.txt": "/j/outputs/ids.txt"})
    assert rendered == "awk '{print $1}' /j/inputs/reads.txt > /j/outputs/ids.txt"


def test_unknown_placeholder_is_named():
    with pytest.raises(ValueError, match=r"uses \{output:other.txt\}, but no output file is called 'other.txt'"):
        pulsar_client.render_command("cat > {output:other.txt}", {}, {"ids.txt": "/x"})


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "", ".hidden", "sp ace"])
def test_file_names_cannot_leave_the_job_directory(name):
    with pytest.raises(ValueError, match="may hold only"):
        pulsar_client.check_file_names({name: "x"}, [])


def test_a_file_cannot_be_input_and_output():
    with pytest.raises(ValueError, match="both an input and an output"):
        pulsar_client.check_file_names({"a.txt": "x"}, ["a.txt"])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "in.txt").write_text("hello\n")
    with job_files.JobFilesServer(str(tmp_path)) as server:
        yield server, tmp_path


def url_for(server, path):
    return f"{server.url}?path={urllib.parse.quote(str(path))}&file_type=input"


def test_pulsar_downloads_an_input(files):
    server, root = files
    with urllib.request.urlopen(url_for(server, root / "inputs" / "in.txt"), timeout=5) as response:
        assert response.read() == b"hello\n"
    head = urllib.request.Request(url_for(server, root / "inputs" / "in.txt"), method="HEAD")
    with urllib.request.urlopen(head, timeout=5) as response:
        assert response.headers["Content-Length"] == "6"
    assert server.transfers == [{"method": "GET", "path": os.path.join("inputs", "in.txt"), "bytes": 6}]


def test_pulsar_uploads_an_output_as_a_multipart_form(files):
    server, root = files
    boundary = "pulsarboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"out\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\nRESULT\n\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(url_for(server, root / "outputs" / "out.txt"), data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert (root / "outputs" / "out.txt").read_bytes() == b"RESULT\n"


@pytest.mark.parametrize("path, code", [("/etc/passwd", 403), ("{root}/../escape", 403), ("{root}/inputs/none", 404)])
def test_paths_outside_the_job_or_missing_are_refused(files, path, code):
    server, root = files
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url_for(server, path.format(root=root)), timeout=5)
    assert refused.value.code == code
